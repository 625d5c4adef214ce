using System.Buffers.Binary;
using System.IO.Compression;

namespace Mmspec.Tests.Cli;

/// <summary>
/// Just enough PNG to read back a browser's screenshot: 8-bit RGB or RGBA, not interlaced (what Chromium writes).
/// The IDAT chunks are one zlib stream of scanlines, each behind a filter byte that <see cref="Unfilter"/> undoes.
/// </summary>
public sealed class PngPixels
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly byte[] pixels;
    private readonly int channels;

    private PngPixels(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        this.channels = channels;
        this.pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public static PngPixels Read(byte[] file)
    {
        if (file.Length < Signature.Length || !file.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, channels = 0;
        using var compressed = new MemoryStream();
        for (int at = Signature.Length; at + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            ReadOnlySpan<byte> data = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]));
                (byte depth, byte colour, byte interlace) = (data[8], data[9], data[12]);
                if (depth != 8 || colour is not (2 or 6) || interlace != 0)
                    throw new InvalidDataException($"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}");
                channels = colour == 2 ? 3 : 4;
            }
            else if (type == "IDAT")
            {
                compressed.Write(data);
            }
            at += 12 + length; // length, type, data, CRC
        }
        compressed.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        return new PngPixels(width, height, channels, Unfilter(inflated.ToArray(), width, height, channels));
    }

    /// <summary>How many pixels are exactly this colour (alpha ignored).</summary>
    public int Count(byte red, byte green, byte blue)
    {
        int count = 0;
        for (int at = 0; at < pixels.Length; at += channels)
            if (pixels[at] == red && pixels[at + 1] == green && pixels[at + 2] == blue)
                count++;
        return count;
    }

    /// <summary>How many different colours the image holds: a blank or failed render has one or two.</summary>
    public int DistinctColours()
    {
        var colours = new HashSet<int>();
        for (int at = 0; at < pixels.Length; at += channels)
            colours.Add(pixels[at] << 16 | pixels[at + 1] << 8 | pixels[at + 2]);
        return colours.Count;
    }

    /// <summary>PNG's five scanline filters (none, sub, up, average, Paeth), each predicting a byte from its left, upper and upper-left neighbours.</summary>
    private static byte[] Unfilter(byte[] data, int width, int height, int channels)
    {
        int stride = width * channels;
        var image = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            byte filter = data[y * (stride + 1)];
            ReadOnlySpan<byte> line = data.AsSpan(y * (stride + 1) + 1, stride);
            for (int x = 0; x < stride; x++)
            {
                int left = x >= channels ? image[y * stride + x - channels] : 0;
                int up = y > 0 ? image[(y - 1) * stride + x] : 0;
                int upLeft = x >= channels && y > 0 ? image[(y - 1) * stride + x - channels] : 0;
                int predicted = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"unknown PNG filter {filter} on line {y}"),
                };
                image[y * stride + x] = (byte)(line[x] + predicted);
            }
        }
        return image;
    }

    private static int Paeth(int left, int up, int upLeft)
    {
        int estimate = left + up - upLeft;
        int toLeft = Math.Abs(estimate - left), toUp = Math.Abs(estimate - up), toUpLeft = Math.Abs(estimate - upLeft);
        return toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft;
    }
}

using Mmspec.Reference.Memory;

namespace Mmspec.Tests.Reference;

public class SimulatedRamTests
{
    private const ulong Size = 64 * 1024;

    [Theory]
    [InlineData(0UL)]
    [InlineData(4095UL)]
    [InlineData(4097UL)]
    [InlineData((1UL << 30) + 4096)]
    [InlineData(ulong.MaxValue)]
    public void Constructor_RejectsSizesThatAreZeroUnalignedOrAboveOneGiB(ulong size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedRam(size));

    [Fact]
    public void Constructor_AcceptsOneGiBAndReportsGeometry()
    {
        var ram = new SimulatedRam(1UL << 30);

        Assert.Equal(1UL << 30, ram.Size);
        Assert.Equal(262144, ram.FrameCount);
        Assert.Equal(0, ram.BackedFrames);
    }

    [Fact]
    public void DefaultSize_IsOneGiB() => Assert.Equal(1UL << 30, new SimulatedRam().Size);

    [Fact]
    public void UnwrittenMemory_ReadsAsZeros()
    {
        var ram = new SimulatedRam(Size);
        byte[] data = new byte[Size];
        Array.Fill(data, (byte)0xFF);

        ram.Read(0, data);

        Assert.All(data, b => Assert.Equal(0, b));
        Assert.Equal(0UL, ram.ReadU64(Size - 8));
        Assert.Equal(0, ram.BackedFrames);
    }

    [Fact]
    public void Words_AreLittleEndianAndRoundTrip()
    {
        var ram = new SimulatedRam(Size);

        ram.WriteU64(0x1008, 0x0123456789ABCDEF);

        Assert.Equal(0x0123456789ABCDEFUL, ram.ReadU64(0x1008));
        byte[] bytes = new byte[8];
        ram.Read(0x1008, bytes);
        Assert.Equal(new byte[] { 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01 }, bytes);
        Assert.Equal(0UL, ram.ReadU64(0x1000));
        Assert.Equal(0UL, ram.ReadU64(0x1010));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(4UL)]
    [InlineData(0x1007UL)]
    public void WordAccess_MustBeEightByteAligned(ulong address)
    {
        var ram = new SimulatedRam(Size);

        Assert.Throws<ArgumentException>(() => ram.ReadU64(address));
        Assert.Throws<ArgumentException>(() => ram.WriteU64(address, 1));
        Assert.Equal(0, ram.BackedFrames);
    }

    [Theory]
    [InlineData(Size)]
    [InlineData(Size + 8)]
    [InlineData(0xFFFFFFFFFFFFFFF8UL)]
    public void WordAccess_OutsideRam_Throws(ulong address)
    {
        var ram = new SimulatedRam(Size);

        Assert.Throws<ArgumentOutOfRangeException>(() => ram.ReadU64(address));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.WriteU64(address, 1));
    }

    [Fact]
    public void ByteRanges_MayCrossFrameBoundaries()
    {
        var ram = new SimulatedRam(Size);
        byte[] source = Enumerable.Range(0, 10000).Select(i => (byte)(i * 7 + 3)).ToArray();

        ram.Write(0xF00, source);

        byte[] back = new byte[source.Length];
        ram.Read(0xF00, back);
        Assert.Equal(source, back);
        Assert.Equal(4, ram.BackedFrames); // 0xF00 .. 0x3610 touches frames 0..3
        byte[] before = new byte[0x100];
        ram.Read(0xE00, before);
        Assert.All(before, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ByteRanges_OutsideRamThrowAndWriteNothing()
    {
        var ram = new SimulatedRam(Size);

        Assert.Throws<ArgumentOutOfRangeException>(() => ram.Write(Size - 4, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.Read(Size - 4, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.Write(ulong.MaxValue, new byte[1]));
        Assert.Equal(0, ram.BackedFrames);
    }

    [Fact]
    public void Contains_IsOverflowSafe()
    {
        var ram = new SimulatedRam(Size);

        Assert.True(ram.Contains(0, Size));
        Assert.True(ram.Contains(Size - 1));
        Assert.False(ram.Contains(Size));
        Assert.False(ram.Contains(1, Size));
        Assert.False(ram.Contains(ulong.MaxValue, 2));
        Assert.False(ram.Contains(0, Size + 1));
    }

    [Fact]
    public void ZeroFrame_ClearsExactlyOneFrame()
    {
        var ram = new SimulatedRam(Size);
        ram.Write(0x1000, Enumerable.Repeat((byte)0x5A, 0x2000).ToArray());

        ram.ZeroFrame(0x1000);

        Assert.Equal(0UL, ram.ReadU64(0x1000));
        Assert.Equal(0UL, ram.ReadU64(0x1FF8));
        Assert.Equal(0x5A5A5A5A5A5A5A5AUL, ram.ReadU64(0x2000));
        Assert.Equal(1, ram.BackedFrames);
    }

    [Fact]
    public void ZeroFrame_RejectsUnalignedAndOutsideAddresses()
    {
        var ram = new SimulatedRam(Size);
        ram.WriteU64(0x1000, 7);

        Assert.Throws<ArgumentException>(() => ram.ZeroFrame(0x1008));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.ZeroFrame(Size));
        Assert.Equal(7UL, ram.ReadU64(0x1000));
    }

    [Fact]
    public void IndexOfNonZeroWord_FindsTheFirstNonZeroWordInsideTheGivenWords()
    {
        var ram = new SimulatedRam(Size);
        ram.WriteU64(0x1000 + 8 * 3, 1);
        ram.WriteU64(0x1000 + 8 * 511, 1UL << 63);

        Assert.Equal(-1, ram.IndexOfNonZeroWord(0x2000, 0, 511)); // never written: no backing at all
        Assert.Equal(3, ram.IndexOfNonZeroWord(0x1000, 0, 511));
        Assert.Equal(3, ram.IndexOfNonZeroWord(0x1000, 3, 3));
        Assert.Equal(511, ram.IndexOfNonZeroWord(0x1000, 4, 511));
        Assert.Equal(-1, ram.IndexOfNonZeroWord(0x1000, 4, 510));
    }

    [Fact]
    public void IndexOfNonZeroWord_RejectsUnalignedFramesOutsideAddressesAndBadWordRanges()
    {
        var ram = new SimulatedRam(Size);

        Assert.Throws<ArgumentException>(() => ram.IndexOfNonZeroWord(0x1008, 0, 511));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.IndexOfNonZeroWord(Size, 0, 511));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.IndexOfNonZeroWord(0x1000, -1, 511));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.IndexOfNonZeroWord(0x1000, 0, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => ram.IndexOfNonZeroWord(0x1000, 5, 4));
    }

    [Fact]
    public void The_dirty_log_lists_each_frame_written_or_zeroed_once_in_order_and_starts_afresh()
    {
        var ram = new SimulatedRam(Size);
        Assert.Empty(ram.TakeWrittenFrames());
        ram.WriteU64(0x5008, 1);
        ram.WriteU64(0x5010, 2);                  // the same frame again
        ram.Write(0x2FFC, [1, 2, 3, 4, 5, 6, 7, 8]); // across frames 2 and 3
        ram.ZeroFrame(0x9000);
        ram.ReadU64(0xA000);                      // a read is no write
        ram.Read(0xB000, new byte[16]);
        Assert.Equal([0x2000UL, 0x3000, 0x5000, 0x9000], ram.TakeWrittenFrames());
        Assert.Empty(ram.TakeWrittenFrames());
        ram.WriteU64(0x5000, 3);
        Assert.Equal([0x5000UL], ram.TakeWrittenFrames());
    }
}

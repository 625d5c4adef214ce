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

    [Fact]
    public void Copies_share_frames_until_one_writes_them_and_never_see_each_others_writes()
    {
        var original = new SimulatedRam(Size);
        original.WriteU64(0x1000, 0x11);
        original.WriteU64(0x2000, 0x22);
        original.Write(0x3000, [7]);
        SimulatedRam copy = original.Copy();
        SimulatedRam second = copy.Copy();

        original.WriteU64(0x1000, 0xA1);       // the original writes a shared frame
        copy.WriteU64(0x2008, 0xB2);           // the copy writes another one
        copy.Write(0x3000, [8]);               // byte writes take the same path
        second.ZeroFrame(0x2000);              // zeroing drops only this RAM's backing
        second.WriteU64(0x2000, 0xC2);         // and the frame it writes after is its own

        Assert.Equal<ulong[]>([0xA1UL, 0x22, 0, 0x7], [original.ReadU64(0x1000), original.ReadU64(0x2000), original.ReadU64(0x2008), original.ReadU64(0x3000) & 0xFF]);
        Assert.Equal<ulong[]>([0x11UL, 0x22, 0xB2, 0x8], [copy.ReadU64(0x1000), copy.ReadU64(0x2000), copy.ReadU64(0x2008), copy.ReadU64(0x3000) & 0xFF]);
        Assert.Equal<ulong[]>([0x11UL, 0xC2, 0, 0x7], [second.ReadU64(0x1000), second.ReadU64(0x2000), second.ReadU64(0x2008), second.ReadU64(0x3000) & 0xFF]);

        copy.WriteU64(0x2010, 0xB3);           // a frame the copy owns now is written in place
        Assert.Equal(0xB2UL, copy.ReadU64(0x2008));
        Assert.Equal(0UL, second.ReadU64(0x2010));
    }

    [Fact]
    public void A_released_RAM_refuses_access_and_its_own_frames_back_the_next_RAM_zeroed()
    {
        var first = new SimulatedRam(Size);
        first.WriteU64(0x1000, ulong.MaxValue);
        SimulatedRam kept = first.Copy();       // shares frame 1 with the first RAM: it must survive the release
        first.WriteU64(0x4000, ulong.MaxValue); // a frame the first RAM alone holds
        first.Release();
        first.Release();                        // releasing twice is releasing once

        Assert.Throws<ObjectDisposedException>(() => first.ReadU64(0x1000));
        Assert.Throws<ObjectDisposedException>(() => first.Write(0x1000, [1]));
        Assert.Throws<ObjectDisposedException>(() => first.Copy());
        Assert.Equal(ulong.MaxValue, kept.ReadU64(0x1000));
        var next = new SimulatedRam(Size);
        next.Write(0x2000, [5]);                // backed by a reused frame, which must read zero elsewhere
        Assert.Equal(5UL, next.ReadU64(0x2000));
        Assert.Equal(-1, next.IndexOfNonZeroWord(0x2000, 1, 511));
        Assert.Equal(ulong.MaxValue, kept.ReadU64(0x1000));
    }

    [Fact]
    public void Releasing_more_frames_than_are_kept_for_reuse_leaves_the_next_RAMs_zeroed()
    {
        const int Frames = 4200; // more than the 4,096 a thread keeps: the rest are left to the collector
        var first = new SimulatedRam((ulong)Frames * 4096);
        for (ulong frame = 0; frame < Frames; frame++)
            first.WriteU64(frame * 4096 + 8, ulong.MaxValue);
        first.Release();

        var next = new SimulatedRam((ulong)Frames * 4096);
        for (ulong frame = 0; frame < Frames; frame += 7)
        {
            next.WriteU64(frame * 4096, frame);
            Assert.Equal(0UL, next.ReadU64(frame * 4096 + 8)); // a reused frame comes cleared
        }
        Assert.Equal(4193UL, next.ReadU64(4193 * 4096));
    }

    [Fact]
    public void A_copy_indexed_with_what_a_released_RAM_left_logs_its_own_writes()
    {
        var original = new SimulatedRam(Size);
        original.WriteU64(0x3000, 7);
        original.TakeWrittenFrames();
        var released = new SimulatedRam(Size);
        released.WriteU64(0x1000, 1);          // written, not taken: its log holds the frame when it ends
        released.Release();

        SimulatedRam copy = original.Copy();   // indexed with the released RAM's arrays
        SimulatedRam other = original.Copy();  // and this one with arrays of its own
        copy.WriteU64(0x1000, 2);

        Assert.Equal([0x1000UL], copy.TakeWrittenFrames());
        Assert.Equal(7UL, copy.ReadU64(0x3000));
        Assert.Equal(0UL, copy.ReadU64(0x1008));
        Assert.Equal(0UL, other.ReadU64(0x1000));
        Assert.Empty(other.TakeWrittenFrames());
    }
}

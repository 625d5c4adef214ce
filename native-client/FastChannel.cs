using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mmspec.NativeClient;

/// <summary>
/// The fast channel (protocol 9, host/channel.c): a machine's requests and answers through the last
/// <see cref="Bytes"/> of its RAM file instead of the socket, while the machine's worker has a core to itself
/// (<see cref="SameCore.Spins"/>) and both sides can wait by spinning. A round trip over the socket costs two
/// context switches, about 11 µs on the 2-core VM of bench/README.md; through shared memory, both sides spinning
/// on their own cores, well under a microsecond (bench/round-trips/pingpong.c; native/README.md, "Round trips").
/// Each direction has a state word: the side that waits sets Spin, the side that sends swaps Spin for Ready once
/// the message is in place, and the waiting side, when its spinning gives up, swaps Spin for Block and reads the
/// socket instead, where the sender then writes. Whoever swaps first decides, so a message takes exactly one way.
/// </summary>
internal sealed class FastChannel(nint start)
{
    public const int Bytes = 256 * 1024;
    private const int RequestState = 0, AnswerState = 64, Request = 4096, Answer = 65536;
    private const int Block = 0, Spin = 1, Ready = 2;

    /// <summary>How long a call spins for its answer before it reads the socket (a vmalloc of thousands of pages takes milliseconds).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs, as the worker spins for a request

    private ref int Word(int offset) => ref Unsafe.As<byte, int>(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), (nuint)(start + offset)));

    private Span<byte> Area(int offset, int length) =>
        MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), (nuint)(start + offset)), length);

    /// <summary>Before a machine's first request: nothing goes through the channel until the worker says it spins.</summary>
    public void Reset()
    {
        Volatile.Write(ref Word(RequestState), Block);
        Volatile.Write(ref Word(AnswerState), Block);
    }

    /// <summary>Says that the answer to the next request will be awaited by spinning (call before sending it).</summary>
    public void WillSpin() => Volatile.Write(ref Word(AnswerState), Spin);

    /// <summary>Hands the request over if the worker spins for it; false: send it on the socket.</summary>
    public bool TrySend(ReadOnlySpan<byte> request)
    {
        if (Volatile.Read(ref Word(RequestState)) != Spin || request.Length > Answer - Request)
            return false;
        request.CopyTo(Area(Request, request.Length));
        return Interlocked.CompareExchange(ref Word(RequestState), Ready, Spin) == Spin;
    }

    /// <summary>
    /// After <see cref="WillSpin"/>: spins for the answer and copies it into <paramref name="response"/> (grown to fit);
    /// false when it did not come in time, and then it comes on the socket.
    /// </summary>
    public bool TryReceive(ref byte[] response, int headerBytes)
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        for (int n = 1; Volatile.Read(ref Word(AnswerState)) != Ready; n++)
        {
            if (n % 64 == 0 && Stopwatch.GetTimestamp() > until && Interlocked.CompareExchange(ref Word(AnswerState), Block, Spin) == Spin)
                return false;
            Thread.SpinWait(1);
        }
        Span<byte> header = Area(Answer, headerBytes);
        int length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        int written = Math.Max(BinaryPrimitives.ReadInt32LittleEndian(header[24..]), 0);
        long total = headerBytes + (long)(uint)length + (long)written * sizeof(ulong);
        if (total > Bytes - Answer)
            total = headerBytes; // not the host's: it answers on the socket what does not fit; the caller finds it malformed
        if (total > response.Length)
            Array.Resize(ref response, (int)total);
        Area(Answer, (int)total).CopyTo(response);
        Volatile.Write(ref Word(AnswerState), Block);
        return true;
    }
}

using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The 4 KiB pages from <see cref="First"/> through <see cref="Last"/> (inclusive; none when <see cref="First"/> lies
/// above it), enumerated without an allocation: every heap block's pages are walked as it comes and goes.
/// </summary>
public readonly record struct PageRange(ulong First, ulong Last)
{
    public static PageRange None => new(AddressSpaceLayout.PageSize, 0);

    public Enumerator GetEnumerator() => new(First, First <= Last ? (Last - First) / AddressSpaceLayout.PageSize + 1 : 0);

    public struct Enumerator(ulong first, ulong count)
    {
        private ulong taken;

        public readonly ulong Current => first + (taken - 1) * AddressSpaceLayout.PageSize;

        public bool MoveNext()
        {
            if (taken == count)
                return false;
            taken++;
            return true;
        }
    }
}

using Mmspec.Reference.Api;

namespace Mmspec.Bench.Scenarios;

/// <summary>
/// A 1 GiB user range whose first 90 % is fragmented: one page mapped every <c>stride</c> pages, so every hole
/// there is stride - 1 pages, one page too short for a request of stride pages. Such a request can only be
/// met in the untouched last 10 %, so a search has to get past the whole fragmented part first.
/// </summary>
public sealed class FragmentedAddressSpace
{
    /// <summary>64 GiB: a 1 GiB-aligned user address, so the range is exactly one page directory.</summary>
    public const ulong RangeStart = 64UL << 30;

    public const ulong RangeSize = 1UL << 30;

    public FragmentedAddressSpace(int stride)
    {
        Api = new MmApi();
        Space = Api.mm_space_create();
        Request = (ulong)stride;
        ulong pages = RangeSize / MmApi.MM_PAGE_SIZE, fragmented = pages * 9 / 10;
        for (ulong page = 0; page < fragmented; page += (ulong)stride)
        {
            ulong frame = Api.mm_phys_alloc_page();
            if (Api.mm_map_single(Space, RangeStart + page * MmApi.MM_PAGE_SIZE, frame, MmApi.MM_PAGE_USER | MmApi.MM_PAGE_WRITE) != 0)
                throw new InvalidOperationException($"setup: mapping page {page} of the fragmented range failed");
            LastMapped = RangeStart + page * MmApi.MM_PAGE_SIZE;
        }
    }

    public MmApi Api { get; }

    public ulong Space { get; }

    /// <summary>Pages asked for: the holes of the fragmented part are one page shorter.</summary>
    public ulong Request { get; }

    public ulong LastMapped { get; }

    public ulong RangeEnd => RangeStart + RangeSize;

    /// <summary>The only correct answer: the first page after the fragmented part's last mapping.</summary>
    public ulong Expected => LastMapped + MmApi.MM_PAGE_SIZE;
}

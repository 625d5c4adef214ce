using Mmspec.Reference.Api;

namespace Mmspec.Bench.Baselines;

/// <summary>
/// vmfind as a naive implementer writes it with nothing but the public API: ask mm_map_get about every page
/// of the range in turn and return the first run of npages pages it calls unmapped.
/// </summary>
public static class PageByPageVmFind
{
    /// <param name="from">Page aligned, like <paramref name="to"/>: the scenarios only pass aligned ranges.</param>
    public static ulong Find(MmApi api, ulong space, ulong from, ulong to, ulong npages)
    {
        ulong flags = 0, runStart = from, run = 0;
        for (ulong page = from; page < to; page += MmApi.MM_PAGE_SIZE)
        {
            if (api.mm_map_get(space, page, ref flags) != MmApi.MM_NADDR)
            {
                run = 0;
                continue;
            }
            if (run++ == 0)
                runStart = page;
            if (run == npages)
                return runStart;
        }
        return MmApi.MM_NADDR;
    }
}

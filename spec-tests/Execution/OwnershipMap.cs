using Mmspec.Models.Mmu;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// Every physical page known to be in use, with who uses it. A page with two owners is a bug. Built whole from a
/// model state and the tables the walks found (<see cref="Build"/>), then kept up to date step by step from the
/// model's own history (<see cref="Follow"/>), so that a step costs what it changed, not what the machine holds.
/// </summary>
public sealed class OwnershipMap
{
    // One slot per frame of RAM for the tables, vmalloc pages and heap pages: each change is an index, not a hash lookup.
    // Every owner lies in RAM (a page beyond it is a conflict of its own, see Claim). The client's pages are not copied
    // here: they are the model's own page set (a bit per page), so that a hog's thousands of pages cost the map a test
    // each that nobody else holds them, and their release nothing.
    // The slots come in chunks that copies share until one of them writes there (copy on write): every sequence restored
    // from a set-up snapshot starts from the snapshot's map and changes a few chunks of it, not a copy of every frame.
    private const int ChunkShift = 8;
    private const int ChunkFrames = 1 << ChunkShift;
    private readonly Owner?[]?[] chunks; // null: no owner in the chunk yet
    private readonly bool[] own; // whether chunks[i] is this map's alone, to write in place
    private readonly int frameCount;
    private int count;
    private static readonly Owner ClientOwner = new(OwnerKind.Client);
    // Heap blocks share pages: every block on a page, so that the page stays the heap's until its last block goes and
    // is named by its lowest block, as a map built whole names it.
    private readonly Dictionary<ulong, SortedSet<ulong>> blocksOnPage = [];
    private readonly ulong ramSize;
    private IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables;
    private PageSet? counted;
    private int countedOwned;
    // Follow's working lists, kept between steps and maps (a sequence's map is a copy made for it): a hog's step changes
    // thousands of keys. One pair per thread; Follow is never re-entered.
    [ThreadStatic] private static List<StateChange>? changes;
    [ThreadStatic] private static List<Owned>? arrivals;
    [ThreadStatic] private static List<ulong>? clientArrivals;

    private OwnershipMap(ApiState model, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables, ulong ramSize)
    {
        frameCount = (int)(ramSize / AddressSpaceLayout.PageSize);
        chunks = new Owner?[]?[(frameCount + ChunkFrames - 1) >> ChunkShift];
        own = new bool[chunks.Length];
        Model = model;
        this.tables = tables;
        this.ramSize = ramSize;
    }

    /// <summary>
    /// A map of its own with the same owners, to follow apart from this one, on a machine of <paramref name="ram"/> bytes
    /// (a boot audit serves every machine whose tables read the same, word for word: they lie in the RAM of each).
    /// </summary>
    public OwnershipMap Copy(ulong ram)
    {
        var copy = new OwnershipMap(Model, tables, ram);
        int shared = Math.Min(chunks.Length, copy.chunks.Length);
        Array.Copy(chunks, copy.chunks, shared);
        Array.Clear(own); // both maps share them now: whichever writes to one first copies it
        if (copy.frameCount > frameCount && frameCount % ChunkFrames != 0 && chunks[^1] is { } last)
        {
            // This map's last chunk runs past its RAM, where a map it was copied from may have had owners: not the copy's.
            var mine = new Owner?[ChunkFrames];
            Array.Copy(last, mine, frameCount % ChunkFrames);
            copy.chunks[chunks.Length - 1] = mine;
            copy.own[chunks.Length - 1] = true;
        }
        copy.count = copy.frameCount == frameCount ? count : Enumerable.Range(0, copy.frameCount).Count(frame => copy.Slot((ulong)frame).HasValue);
        foreach ((ulong page, SortedSet<ulong> blocks) in blocksOnPage)
            copy.blocksOnPage[page] = [.. blocks];
        return copy;
    }

    /// <summary>A map of nothing, before the first audit.</summary>
    public static OwnershipMap Empty() => new(ApiState.Boot(0, []), new Dictionary<ulong, (PagingLevel, TableReach)>(), 0);

    /// <summary>The page tables this map describes, with the spaces that reach each.</summary>
    public IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> Tables => tables;

    /// <summary>The model state this map describes.</summary>
    public ApiState Model { get; private set; }

    public int Count => count + Model.ClientPages.Count;

    public bool Contains(ulong page)
    {
        ulong frame = page / AddressSpaceLayout.PageSize;
        return Slot(frame).HasValue || Model.ClientPages.Contains(page);
    }

    /// <summary>Who uses the page; false when nobody does (or it lies beyond RAM, where nobody can).</summary>
    public bool TryGetOwner(ulong page, out Owner owner)
    {
        if (TryGetOwnerOtherThanClient(page, out owner))
            return true;
        bool client = Model.ClientPages.Contains(page);
        owner = client ? ClientOwner : default;
        return client;
    }

    /// <summary>Every page in use with its owner, in address order.</summary>
    public IEnumerable<(ulong Page, Owner Owner)> Entries()
    {
        for (int frame = 0; frame < frameCount; frame++)
            if (TryGetOwner((ulong)frame * AddressSpaceLayout.PageSize, out Owner owner))
                yield return ((ulong)frame * AddressSpaceLayout.PageSize, owner);
    }

    /// <summary>Every page some <paramref name="kind"/> other than the client holds, with its owner, in address order: the chunks held, not every frame.</summary>
    public List<(ulong Page, Owner Owner)> PagesOf(OwnerKind kind)
    {
        var found = new List<(ulong Page, Owner Owner)>();
        for (int index = 0; index < chunks.Length; index++)
        {
            if (chunks[index] is not { } chunk)
                continue;
            int frames = Math.Min(ChunkFrames, frameCount - index * ChunkFrames);
            for (int slot = 0; slot < frames; slot++)
                if (chunk[slot] is { } owner && owner.Kind == kind)
                    found.Add(((ulong)(index * ChunkFrames + slot) * AddressSpaceLayout.PageSize, owner));
        }
        return found;
    }

    /// <summary>Who uses the page, as messages name it; null when nobody does.</summary>
    public string? OwnerOf(ulong page) => TryGetOwner(page, out Owner owner) ? owner.ToString() : null;

    /// <summary>How many pages in use lie in <paramref name="pages"/>, kept up to date for the last set asked about (the client's pages counted by their bits).</summary>
    public int CountIn(PageSet pages)
    {
        if (!ReferenceEquals(pages, counted))
        {
            counted = pages;
            countedOwned = 0;
            for (int frame = 0; frame < frameCount; frame++)
                if (Slot((ulong)frame).HasValue && pages.Contains((ulong)frame * AddressSpaceLayout.PageSize))
                    countedOwned++;
        }
        return countedOwned + Model.ClientPages.CountCommon(pages);
    }

    /// <summary>Whether an owner as this map names it is a page table (the audit names them "a PT page table", ...).</summary>
    public static bool IsTable(string owner) => owner.EndsWith(" page table", StringComparison.Ordinal);

    /// <summary>
    /// The map of <paramref name="model"/> and <paramref name="tables"/>, and the first page found with two owners.
    /// Heap blocks share pages with each other; every other kind of owner must be alone on its page.
    /// </summary>
    public static (OwnershipMap Map, Conflict? Conflict) Build(ApiState model, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables, ulong ramSize)
    {
        var map = new OwnershipMap(model, tables, ramSize);
        Conflict? conflict = null;
        // In this order, each kind against the kinds before it: the first owner found is named first.
        foreach ((ulong page, (PagingLevel level, TableReach reach)) in tables)
            conflict ??= map.Claim(page, Owner.Table(level, reach), "PHYS-01", PageSet.Empty);
        foreach (ulong page in model.ClientPages)
            conflict ??= map.ClientArrived(page);
        foreach ((int space, ulong virt, Mapping mapping) in model.DistinctMappings())
            if (mapping.Kind == MappingKind.Region)
                conflict ??= map.Claim(new Owned(OwnerKind.Region, virt, Space: space, Page: mapping.Phys), model.ClientPages);
        foreach ((ulong pointer, ulong size) in model.HeapBlocks)
            conflict ??= map.Claim(new Owned(OwnerKind.Heap, pointer, size), model.ClientPages);
        return (map, conflict);
    }

    /// <summary>
    /// Brings the map to <paramref name="now"/> and <paramref name="nowTables"/> by what changed since the state it
    /// describes: what left first, then what came. False when it cannot tell (the state is not a later state of the
    /// map's) or a page would have two owners: then the map is spoiled, and <see cref="Build"/> says what is wrong.
    /// </summary>
    public bool Follow(ApiState now, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> nowTables)
    {
        List<StateChange> changes = OwnershipMap.changes ??= [];
        List<Owned> arrivals = OwnershipMap.arrivals ??= [];
        List<ulong> clients = clientArrivals ??= [];
        try
        {
            return Follow(now, nowTables, changes, arrivals, clients);
        }
        finally
        {
            changes.Clear(); // nothing of this state's history kept alive by a list of the thread's
            arrivals.Clear();
            clients.Clear();
        }
    }

    private bool Follow(ApiState now, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> nowTables, List<StateChange> changes,
                        List<Owned> arrivals, List<ulong> clients)
    {
        if (!now.ChangesSince(Model, changes))
            return false;
        // What left goes at once and what came is claimed after, so that a page may change hands within the changes.
        // A key may change many times (a hog or a teardown changes thousands of pages at once): each departure and
        // arrival compares the map with the state it goes to, so the second time a key comes up it is already there.
        foreach (StateChange change in changes)
        {
            if (change.Kind == StateKeyKind.ClientPage)
                ClientPagesChanged(now.ClientPages, change, clients);
            else if (change.Bulk is { } keys)
                foreach (ulong key in keys)
                    Move(now, change.Kind, change.Space, key, arrivals);
            else
                Move(now, change.Kind, change.Space, change.Key, arrivals);
        }
        if (!ReferenceEquals(tables, nowTables)) // the audit hands the very same tables when no walk changed
        {
            foreach ((ulong page, var table) in tables)
                if (!nowTables.TryGetValue(page, out var still) || still != table)
                    Unclaim(page, OwnerKind.Table);
            foreach ((ulong page, (PagingLevel level, TableReach reach)) in nowTables)
                if (!tables.TryGetValue(page, out var was) || was != (level, reach))
                    if (Claim(page, Owner.Table(level, reach), "PHYS-01", now.ClientPages) is not null)
                        return false;
        }
        foreach (Owned arrived in arrivals)
            if (!Holds(arrived) && Claim(arrived, now.ClientPages) is not null)
                return false;
        // Last, as the client's pages claim no slot of the map: each must be held by no one else once all else moved.
        foreach (ulong page in clients)
            if (ClientArrived(page) is not null)
                return false;
        Model = now;
        tables = nowTables;
        return true;
    }

    /// <summary>What a key of the model claimed: a heap block (its pages) or a vmalloc page (the client's pages claim no slot, see <see cref="ClientPagesChanged"/>).</summary>
    private readonly record struct Owned(OwnerKind Kind, ulong Key, ulong Size = 0, int Space = 0, ulong Page = 0);

    /// <summary>
    /// Lets go of what a changed key claimed in the map's state and no longer claims in <paramref name="now"/>, and adds
    /// what it claims now and did not to <paramref name="arrivals"/>. Letting go twice is letting go once.
    /// </summary>
    private void Move(ApiState now, StateKeyKind kind, int space, ulong key, List<Owned> arrivals)
    {
        switch (kind)
        {
            case StateKeyKind.HeapBlock:
                bool had = Model.HeapBlocks.TryGetValue(key, out ulong oldSize), has = now.HeapBlocks.TryGetValue(key, out ulong newSize);
                if (had == has && oldSize == newSize)
                    break;
                if (had)
                    UnclaimBlock(key, oldSize);
                if (has)
                    arrivals.Add(new Owned(OwnerKind.Heap, key, newSize));
                break;
            case StateKeyKind.Mapping:
                ulong? oldPage = RegionPage(Model, space, key), newPage = RegionPage(now, space, key);
                if (oldPage == newPage)
                    break;
                if (oldPage is { } left)
                    Unclaim(left, OwnerKind.Region);
                if (newPage is { } came)
                    arrivals.Add(new Owned(OwnerKind.Region, key, Space: space, Page: came));
                break;
            default:
                break; // a new space holds only boot mappings, which claim no page
        }
    }

    /// <summary>
    /// The client's pages are the state's own and claim no slot: one the client holds now must be held by nobody else,
    /// which <paramref name="clients"/> keeps to check once everything else moved. A change that left the client no
    /// pages (the teardown's last phase frees thousands) has none to check.
    /// </summary>
    private static void ClientPagesChanged(PageSet now, StateChange change, List<ulong> clients)
    {
        if (now.IsEmpty)
            return;
        if (change.Bulk is not { } keys)
        {
            if (now.Contains(change.Key))
                clients.Add(change.Key);
            return;
        }
        foreach (ulong key in keys)
            if (now.Contains(key))
                clients.Add(key);
    }

    /// <summary>Whether the map already holds what <paramref name="owned"/> claims: a key that arrived twice among the changes.</summary>
    private bool Holds(Owned owned) => owned.Kind switch
    {
        OwnerKind.Heap => false, // claiming a block's pages again adds nothing
        _ => TryGetOwnerOtherThanClient(owned.Page, out Owner owner) && owner == new Owner(OwnerKind.Region, owned.Key, owned.Space),
    };

    /// <summary>
    /// Claims what a key of the model holds, with <paramref name="clients"/> the client's pages it must not lie on; the
    /// first page found with another owner is the conflict.
    /// </summary>
    private Conflict? Claim(Owned owned, PageSet clients) => owned.Kind switch
    {
        OwnerKind.Heap => ClaimBlock(owned.Key, owned.Size, clients),
        _ => Claim(owned.Page, new Owner(OwnerKind.Region, owned.Key, owned.Space), "VM-06", clients),
    };

    /// <summary>A page the client holds: in RAM, and held by no table, vmalloc page or heap block of this map.</summary>
    private Conflict? ClientArrived(ulong page)
    {
        if (page >= ramSize)
            return Conflict.BeyondRam(page, ClientOwner, ramSize);
        return TryGetOwnerOtherThanClient(page, out Owner existing) ? Conflict.Of("PHYS-01", page, existing, ClientOwner) : null;
    }

    /// <summary>The table, vmalloc page or heap block holding the page, if any.</summary>
    private bool TryGetOwnerOtherThanClient(ulong page, out Owner owner)
    {
        ulong frame = page / AddressSpaceLayout.PageSize;
        Owner? found = Slot(frame);
        owner = found.GetValueOrDefault();
        return found.HasValue;
    }

    /// <summary>Whether the block lies, whole, in the direct map of RAM, where the suite can reach it.</summary>
    public static bool HeapBlockInRam(ulong pointer, ulong size, ulong ramSize)
    {
        ulong phys = pointer - AddressSpaceLayout.KernelBase;
        return pointer >= AddressSpaceLayout.KernelBase && phys < ramSize && ramSize - phys >= Math.Max(size, 1);
    }

    /// <summary>Whether two maps name the same owner for every page (the incremental audit's own check).</summary>
    public bool SameAs(OwnershipMap other) => Count == other.Count && Entries().SequenceEqual(other.Entries()); // maps of machines of other sizes too

    /// <summary>The physical page a vmalloc mapping at <paramref name="virt"/> maps (space -1: the shared kernel slots); null for any other mapping.</summary>
    private static ulong? RegionPage(ApiState state, int space, ulong virt)
    {
        var map = space < 0 ? state.SharedMappings : space < state.SpaceCount ? state.SpaceMappings[space] : null;
        return map is not null && map.TryGetValue(virt, out Mapping mapping) && mapping.Kind == MappingKind.Region ? mapping.Phys : null;
    }

    private Conflict? Claim(ulong page, Owner owner, string clause, PageSet clients)
    {
        if (page >= ramSize)
            return Conflict.BeyondRam(page, owner, ramSize);
        if (TryGetOwnerOtherThanClient(page, out Owner existing))
            return Conflict.Of(clause, page, existing, owner);
        if (clients.Contains(page))
            return Conflict.Of(clause, page, ClientOwner, owner);
        Set(page, owner);
        return null;
    }

    private Conflict? ClaimBlock(ulong pointer, ulong size, PageSet clients)
    {
        if (!HeapBlockInRam(pointer, size, ramSize))
            return null; // outside the direct map of RAM (the spec does not say where the heap lives): no page the suite sees
        foreach (ulong page in PagesOf(pointer, size))
        {
            if (clients.Contains(page))
                return Conflict.Of("HEAP-03", page, ClientOwner, new Owner(OwnerKind.Heap, pointer));
            if (TryGetOwnerOtherThanClient(page, out Owner existing) && existing.Kind != OwnerKind.Heap)
                return Conflict.Of("HEAP-03", page, existing, new Owner(OwnerKind.Heap, pointer));
            if (!blocksOnPage.TryGetValue(page, out SortedSet<ulong>? blocks))
                blocksOnPage[page] = blocks = [];
            blocks.Add(pointer);
            Set(page, new Owner(OwnerKind.Heap, blocks.Min));
        }
        return null;
    }

    private void UnclaimBlock(ulong pointer, ulong size)
    {
        if (!HeapBlockInRam(pointer, size, ramSize))
            return;
        foreach (ulong page in PagesOf(pointer, size))
        {
            if (!blocksOnPage.TryGetValue(page, out SortedSet<ulong>? blocks) || !blocks.Remove(pointer))
                continue;
            if (blocks.Count > 0)
                Set(page, new Owner(OwnerKind.Heap, blocks.Min));
            else
            {
                blocksOnPage.Remove(page);
                Unclaim(page, OwnerKind.Heap);
            }
        }
    }

    /// <summary>The 4 KiB pages a heap block of <paramref name="size"/> bytes at <paramref name="pointer"/> lies on (a block of 0 bytes: its one page).</summary>
    public static PageRange PagesOf(ulong pointer, ulong size)
    {
        ulong phys = pointer - AddressSpaceLayout.KernelBase;
        ulong last = phys + Math.Max(size, 1) - 1;
        return new PageRange(phys & ~(AddressSpaceLayout.PageSize - 1), last & ~(AddressSpaceLayout.PageSize - 1));
    }

    private void Unclaim(ulong page, OwnerKind kind)
    {
        if (!TryGetOwnerOtherThanClient(page, out Owner owner) || owner.Kind != kind)
            return;
        Writable(page / AddressSpaceLayout.PageSize) = null;
        count--;
        if (counted?.Contains(page) == true)
            countedOwned--;
    }

    /// <summary>Names the owner of a page of RAM (the callers check it lies in RAM).</summary>
    private void Set(ulong page, Owner owner)
    {
        ref Owner? slot = ref Writable(page / AddressSpaceLayout.PageSize);
        if (slot is null)
        {
            count++;
            if (counted?.Contains(page) == true)
                countedOwned++;
        }
        slot = owner;
    }

    /// <summary>Who holds the frame; null beyond RAM.</summary>
    private Owner? Slot(ulong frame) =>
        frame < (ulong)frameCount && chunks[frame >> ChunkShift] is { } chunk ? chunk[frame & (ChunkFrames - 1)] : null;

    /// <summary>The frame's slot to write, in a chunk of this map's own (copied first if a copy shares it).</summary>
    private ref Owner? Writable(ulong frame)
    {
        int index = (int)(frame >> ChunkShift);
        if (!own[index])
        {
            chunks[index] = chunks[index] is { } shared ? (Owner?[])shared.Clone() : new Owner?[ChunkFrames];
            own[index] = true;
        }
        return ref chunks[index]![frame & (ChunkFrames - 1)];
    }
}

public enum OwnerKind
{
    Table,
    Client,
    Region,
    Heap,
}

/// <summary>Which spaces' walks reached a page table, and whether it lies under a shared kernel slot (then every space reaches it).</summary>
public readonly record struct TableReach(ulong Spaces, bool Shared)
{
    public bool Reaches(int space) => Shared || space is >= 0 and < 64 && (Spaces & (1UL << space)) != 0;
}

/// <summary>
/// Who uses a physical page: a page table (its level, and which spaces reach it), the client, a vmalloc page (where it
/// is mapped) or a heap block (its pointer).
/// </summary>
public readonly record struct Owner(OwnerKind Kind, ulong Address = 0, int Space = 0, PagingLevel Level = PagingLevel.Pml4, TableReach Reach = default)
{
    public static Owner Table(PagingLevel level, TableReach reach) => new(OwnerKind.Table, Level: level, Reach: reach);

    public override string ToString() => Kind switch
    {
        OwnerKind.Table => $"a {Level.Name()} page table",
        OwnerKind.Client => "a page the client allocated",
        OwnerKind.Region => $"the vmalloc page at 0x{Address:X} ({(Space < 0 ? "kernel half" : $"space{Space}")})",
        _ => $"heap block 0x{Address:X}",
    };
}

/// <summary>A page with two owners: the clause it breaks, the message, and who they are.</summary>
public sealed record Conflict(string Clause, string Message, ulong Page, string First, string Second)
{
    public static Conflict Of(string clause, ulong page, Owner first, Owner second) =>
        new(clause, $"physical page 0x{page:X} is both {first} and {second}", page, first.ToString(), second.ToString());

    /// <summary>A page in use that lies beyond RAM: no page of the machine, so it cannot be anyone's (the steps check what they are handed; this names what slipped past).</summary>
    public static Conflict BeyondRam(ulong page, Owner owner, ulong ramSize) =>
        new("PHYS-02", $"physical page 0x{page:X}, {owner}, lies beyond RAM (0x{ramSize:X} bytes)", page, owner.ToString(), "beyond RAM");
}

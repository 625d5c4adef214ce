using Mmspec.Models.Mmu;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>Every physical page known to be in use, with who uses it. A page with two owners is a bug.</summary>
public sealed class OwnershipMap
{
    public static readonly OwnershipMap Empty = new(new Dictionary<ulong, Owner>());

    // Rebuilt after every step and never changed: a plain dictionary of small values (an immutable dictionary of
    // formatted names cost more to build than the audit's walks once a hog holds thousands of pages).
    private OwnershipMap(Dictionary<ulong, Owner> owners) => Owners = owners;

    public IReadOnlyDictionary<ulong, Owner> Owners { get; }

    public int Count => Owners.Count;

    public bool Contains(ulong page) => Owners.ContainsKey(page);

    /// <summary>Who uses the page, as messages name it; null when nobody does.</summary>
    public string? OwnerOf(ulong page) => Owners.TryGetValue(page, out Owner owner) ? owner.ToString() : null;

    /// <summary>
    /// Heap blocks share pages with each other; every other kind of owner must be alone on its page. A block
    /// outside the direct map of RAM (the spec does not say where the heap lives) owns no page the suite can see.
    /// </summary>
    /// <summary>Whether an owner as this map names it is a page table (the audit names them "a PT page table", ...).</summary>
    public static bool IsTable(string owner) => owner.EndsWith(" page table", StringComparison.Ordinal);

    public static (OwnershipMap Map, Conflict? Conflict) Build(ApiState model, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables, ulong ramSize)
    {
        var owners = new Dictionary<ulong, Owner>(model.ClientPages.Count + model.HeapBlocks.Count + 64);
        Conflict? conflict = null;

        void Claim(ulong page, Owner owner, string clause, bool shareable = false)
        {
            if (owners.TryGetValue(page, out Owner existing))
            {
                if (!(shareable && existing.Kind == OwnerKind.Heap))
                    conflict ??= new Conflict(clause, $"physical page 0x{page:X} is both {existing} and {owner}", page, existing.ToString(), owner.ToString());
                return;
            }
            owners[page] = owner;
        }

        foreach ((ulong page, (PagingLevel level, TableReach reach)) in tables)
            Claim(page, Owner.Table(level, reach), "PHYS-01");
        foreach (ulong page in model.ClientPages)
            Claim(page, new Owner(OwnerKind.Client), "PHYS-01");
        foreach ((int space, ulong virt, Mapping mapping) in model.DistinctMappings())
            if (mapping.Kind == MappingKind.Region)
                Claim(mapping.Phys, new Owner(OwnerKind.Region, virt, space), "VM-06");
        foreach ((ulong pointer, ulong size) in model.HeapBlocks)
        {
            ulong phys = pointer - AddressSpaceLayout.KernelBase;
            if (!HeapBlockInRam(pointer, size, ramSize))
                continue;
            ulong last = phys + Math.Max(size, 1) - 1;
            for (ulong page = phys & ~(AddressSpaceLayout.PageSize - 1); page <= last; page += AddressSpaceLayout.PageSize)
                Claim(page, new Owner(OwnerKind.Heap, pointer), "HEAP-03", shareable: true);
        }
        return (new OwnershipMap(owners), conflict);
    }

    /// <summary>Whether the block lies, whole, in the direct map of RAM, where the suite can reach it.</summary>
    public static bool HeapBlockInRam(ulong pointer, ulong size, ulong ramSize)
    {
        ulong phys = pointer - AddressSpaceLayout.KernelBase;
        return pointer >= AddressSpaceLayout.KernelBase && phys < ramSize && ramSize - phys >= Math.Max(size, 1);
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
public sealed record Conflict(string Clause, string Message, ulong Page, string First, string Second);

using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>Every physical page known to be in use, with who uses it. A page with two owners is a bug.</summary>
public sealed class OwnershipMap
{
    public static readonly OwnershipMap Empty = new(new Dictionary<ulong, string>());

    /// <summary>Built once per audit and never changed after: a plain dictionary (copying thousands of pages into an immutable one after every step took about a seventh of a default check).</summary>
    private OwnershipMap(IReadOnlyDictionary<ulong, string> owners) => Owners = owners;

    public IReadOnlyDictionary<ulong, string> Owners { get; }

    public int Count => Owners.Count;

    public bool Contains(ulong page) => Owners.ContainsKey(page);

    public string? OwnerOf(ulong page) => Owners.GetValueOrDefault(page);

    /// <summary>
    /// Heap blocks share pages with each other; every other kind of owner must be alone on its page. A block
    /// outside the direct map of RAM (the spec does not say where the heap lives) owns no page the suite can see.
    /// </summary>
    /// <summary>Whether an owner as this map names it is a page table (the audit names them "a PT page table", ...).</summary>
    public static bool IsTable(string owner) => owner.EndsWith(" page table", StringComparison.Ordinal);

    public static (OwnershipMap Map, Conflict? Conflict) Build(ApiState model, IEnumerable<(ulong Page, string Owner)> tables, ulong ramSize)
    {
        var owners = new Dictionary<ulong, string>();
        Conflict? conflict = null;

        void Claim(ulong page, string owner, string clause, bool shareable = false)
        {
            if (owners.TryGetValue(page, out string? existing))
            {
                if (!(shareable && existing.StartsWith("heap", StringComparison.Ordinal)))
                    conflict ??= new Conflict(clause, $"physical page 0x{page:X} is both {existing} and {owner}", page, existing, owner);
                return;
            }
            owners[page] = owner;
        }

        foreach ((ulong page, string owner) in tables)
            Claim(page, owner, "PHYS-01");
        foreach (ulong page in model.ClientPages)
            Claim(page, "a page the client allocated", "PHYS-01");
        foreach ((int space, ulong virt, Mapping mapping) in model.DistinctMappings())
            if (mapping.Kind == MappingKind.Region)
                Claim(mapping.Phys, $"the vmalloc page at 0x{virt:X} ({(space < 0 ? "kernel half" : $"space{space}")})", "VM-06");
        foreach ((ulong pointer, ulong size) in model.HeapBlocks)
        {
            ulong phys = pointer - AddressSpaceLayout.KernelBase;
            if (!HeapBlockInRam(pointer, size, ramSize))
                continue;
            ulong last = phys + Math.Max(size, 1) - 1;
            for (ulong page = phys & ~(AddressSpaceLayout.PageSize - 1); page <= last; page += AddressSpaceLayout.PageSize)
                Claim(page, $"heap block 0x{pointer:X}", "HEAP-03", shareable: true);
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

/// <summary>A page with two owners: the clause it breaks, the message, and who they are.</summary>
public sealed record Conflict(string Clause, string Message, ulong Page, string First, string Second);

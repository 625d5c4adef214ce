using System.Collections.Immutable;
using Mmspec.Models.Mmu;
using Mmspec.Models.State;

namespace Mmspec.SpecTests.Execution;

/// <summary>
/// The checks after every step, against the MMU model and the abstract model: touched addresses translate
/// as the model says, every space's page tables hold exactly the model's mappings, no physical page has two
/// owners, and every mark the suite wrote is intact.
/// </summary>
public static class Audit
{
    public static void AfterStep(SequenceContext ctx, string clause)
    {
        var ram = new RamView(ctx.Implementation.Ram, ctx.Implementation.RamSize);
        IReadOnlySet<ulong>? marksWritten = null;
        try
        {
            foreach ((int space, ulong virt) in ctx.Touched)
                foreach (int seen in SpacesSeeing(ctx, space, virt))
                    CompareTranslation(ctx, ram, seen, virt, clause);
            // Judged against the ownership before the step, before it is rebuilt; what the calls wrote also tells the
            // walk which spaces may have changed (null: a call could not tell, or the suite made unrecorded calls).
            HashSet<ulong>? written = WriteCheck.AfterStep(ctx);
            if (ctx.UnjudgedWrites is not { } unjudged || ctx.AuditMode == AuditMode.Full)
                written = null;
            else
                written?.UnionWith(unjudged);
            marksWritten = written;
            ctx.UnjudgedWrites = [];
            var walks = new TableWalks(WalkSpaces(ctx, ram, clause, written), ctx.Model.SharedSlots);
            // The walks found what the last audit's did: the tables are those the ownership map holds already.
            bool same = ctx.AuditMode != AuditMode.Full && walks.SameAs(ctx.LastTableWalks);
            IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables =
                same && ctx.AuditMode == AuditMode.Incremental ? ctx.Owned.Tables : TablesOf(ctx, walks.Parts);
            if (same && ctx.AuditMode == AuditMode.Both && !SameTables(tables, ctx.Owned.Tables))
                throw new AuditDisagreementException($"after step {ctx.Step}, the incremental audit would have kept the tables of the last audit, which differ from those walked now");
            ctx.LastTableWalks = walks;
            ctx.Owned = Owners(ctx, tables);
        }
        catch (MalformedPageTableException malformed)
        {
            ctx.Fail(clause, $"the page tables hold a malformed entry: {malformed.Message}");
        }
        catch (WalkOutsideRamException outside)
        {
            ctx.Fail(clause, $"the page tables point outside RAM: {outside.Message}");
        }
        CheckMarks(ctx, marksWritten);
        ctx.Touched.Clear();
    }

    /// <summary>
    /// Every mark the suite wrote must hold. Only a frame the implementation wrote can have lost one: with the step's
    /// write set (<paramref name="written"/>), only the marks in those frames are read; the full audit reads them all.
    /// </summary>
    private static void CheckMarks(SequenceContext ctx, IReadOnlySet<ulong>? written)
    {
        bool? seen = written is null ? null : ctx.Patterns.DamageIn(written);
        if (seen == false && ctx.AuditMode == AuditMode.Incremental)
            return;
        var first = ctx.Patterns.FirstDamage();
        if (ctx.AuditMode == AuditMode.Both && seen is { } inWritten && inWritten != first.HasValue)
            throw new AuditDisagreementException($"after step {ctx.Step}, the marks in the frames the step wrote {(inWritten ? "read changed" : "hold")}, but {first?.Message ?? "every mark holds"}");
        if (first is ({ } damage, { } marks))
            ctx.Fail(DamageClause(damage), damage, state: [marks]);
    }

    /// <summary>
    /// Compares every space's tables with the model and returns the tables each part of each space holds, walked in parts
    /// (<see cref="WalkPart"/>). With the frames the calls since the last audit wrote (<paramref name="written"/>; null:
    /// unknown, or a full audit wanted), a part the step cannot have changed keeps what the last audit found
    /// (<see cref="PartMemo"/>); in <see cref="AuditMode.Both"/> it is walked anyway and must agree.
    /// </summary>
    private static List<(int Space, List<TablePage> Tables)> WalkSpaces(SequenceContext ctx, RamView ram, string clause, IReadOnlySet<ulong>? written)
    {
        var found = new List<(int Space, List<TablePage> Tables)>(ctx.Roots.Count + 1);
        bool anyShared = !ctx.Model.SharedSlots.IsEmpty;
        for (int space = 0; space < ctx.Roots.Count; space++)
        {
            found.Add((space, WalkPart(ctx, ram, clause, new WalkPart(space, Shared: false), written)));
            if (anyShared && !SharedSlotsAsFirst(ctx, ram, space))
                found.Add((space, WalkPart(ctx, ram, clause, new WalkPart(space, Shared: true), written)));
        }
        return found;
    }

    private static List<TablePage> WalkPart(SequenceContext ctx, RamView ram, string clause, WalkPart part, IReadOnlySet<ulong>? written)
    {
        ulong root = ctx.Roots[part.Space];
        ImmutableSortedDictionary<ulong, Mapping> expected = part.Shared ? ctx.Model.SharedMappings : ctx.Model.SpaceMappings[part.Space];
        ImmutableSortedSet<int> shared = ctx.Model.SharedSlots;
        ulong[]? entries = part.Shared ? SharedEntries(ram, root, shared) : null;
        PartMemo? memo = written is null ? null : ctx.LastWalks.GetValueOrDefault(part);
        bool unchanged = memo is not null && memo.Unchanged(root, expected, entries, written!);
        if (unchanged && ctx.AuditMode == AuditMode.Incremental)
            return memo!.Tables; // read only: the memo's own list
        Predicate<int>? slots = shared.IsEmpty ? null : part.Shared ? shared.Contains : slot => !shared.Contains(slot);
        var walked = new List<TablePage>();
        try
        {
            CompareLeaves(ctx, ram, part.Space, clause, slots, expected, walked.Add);
        }
        catch (ViolationException violation) when (unchanged)
        {
            throw new AuditDisagreementException($"the incremental audit would have skipped {Name(part)} after step {ctx.Step}, which the full audit finds broken: {violation.Violation.Message}");
        }
        if (unchanged && !walked.SequenceEqual(memo!.Tables))
            throw new AuditDisagreementException($"the incremental audit would have skipped {Name(part)} after step {ctx.Step}, whose tables changed");
        ctx.LastWalks[part] = new PartMemo(root, expected, entries, walked);
        return walked;
    }

    /// <summary>The root's entries of the shared kernel slots, in slot order.</summary>
    private static ulong[] SharedEntries(RamView ram, ulong root, ImmutableSortedSet<int> shared)
    {
        var entries = new ulong[shared.Count];
        int at = 0;
        foreach (int slot in shared)
            entries[at++] = ram.ReadU64(root + (ulong)slot * 8);
        return entries;
    }

    /// <summary>Every table the walks found, with the spaces that reach it; each must lie in RAM.</summary>
    private static Dictionary<ulong, (PagingLevel Level, TableReach Reach)> TablesOf(SequenceContext ctx, List<(int Space, List<TablePage> Tables)> walks)
    {
        var tables = new Dictionary<ulong, (PagingLevel Level, TableReach Reach)>();
        foreach ((int space, List<TablePage> walked) in walks)
            foreach (TablePage table in walked)
            {
                bool shared = table.Level != PagingLevel.Pml4 && ctx.Model.IsShared(table.VirtualBase);
                TableReach known = tables.GetValueOrDefault(table.PhysicalAddress).Reach;
                tables[table.PhysicalAddress] = (table.Level, new TableReach(known.Spaces | (space < 64 ? 1UL << space : 0), known.Shared || shared));
            }
        foreach (ulong page in tables.Keys)
            ctx.Check(page < ctx.Implementation.RamSize, "PHYS-01", $"page table at 0x{page:X} lies outside RAM");
        return tables;
    }

    private static bool SameTables(IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> walked,
                                   IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> kept) =>
        walked.Count == kept.Count && walked.All(table => kept.TryGetValue(table.Key, out var was) && was == table.Value);

    private static string Name(WalkPart part) => $"{(part.Shared ? "the shared kernel slots of " : "")}space{part.Space}";

    /// <summary>
    /// Who holds each page after the step: the map of the last step, brought up to date by what the model's history says
    /// changed (<see cref="OwnershipMap.Follow"/>); built whole in a full audit, or when that cannot tell or finds a page
    /// with two owners, which the whole build then names as a map built from scratch would.
    /// </summary>
    private static OwnershipMap Owners(SequenceContext ctx, IReadOnlyDictionary<ulong, (PagingLevel Level, TableReach Reach)> tables)
    {
        OwnershipMap kept = ctx.Owned;
        bool followed = ctx.AuditMode != AuditMode.Full && kept.Follow(ctx.Model, tables);
        if (followed && ctx.AuditMode == AuditMode.Incremental)
            return kept;
        (OwnershipMap built, Conflict? conflict) = OwnershipMap.Build(ctx.Model, tables, ctx.Implementation.RamSize);
        if (followed && (conflict is not null || !built.SameAs(kept)))
            throw new AuditDisagreementException($"after step {ctx.Step}, the ownership map kept step by step differs from the one built whole{(conflict is null ? "" : $", which finds {conflict.Message}")}");
        if (conflict is { } found)
            ctx.Fail(found.Clause, found.Message, state: OwnerChecks(found));
        return built;
    }

    /// <summary>
    /// A page with two owners: what C can see of it is a page table, found by walking. (A client page or a heap block
    /// is a value some call returned: the step that received it checked it already.)
    /// </summary>
    private static IReadOnlyList<StateCheck>? OwnerChecks(Conflict conflict)
    {
        var checks = new List<StateCheck>();
        if (OwnershipMap.IsTable(conflict.First) && !OwnershipMap.IsTable(conflict.Second))
            checks.Add(new NotTableCheck(conflict.Page, conflict.Second));
        if (OwnershipMap.IsTable(conflict.Second) && !OwnershipMap.IsTable(conflict.First))
            checks.Add(new NotTableCheck(conflict.Page, conflict.First));
        return checks.Count > 0 ? checks : null;
    }

    private static void FailAt(SequenceContext ctx, string clause, string message, int space, ulong virt) =>
        ctx.Fail(clause, message, state: [TranslationCheck.Of(ctx.Model, space, virt)]);

    private static string DamageClause(string damage) => damage.StartsWith("heap", StringComparison.Ordinal) ? "HEAP-04" : "PHYS-01";

    private static IEnumerable<int> SpacesSeeing(SequenceContext ctx, int space, ulong virt) =>
        ctx.Model.IsShared(virt) ? Enumerable.Range(0, ctx.Roots.Count) : [space];

    private static void CompareTranslation(SequenceContext ctx, RamView ram, int space, ulong virt, string clause)
    {
        Translation actual = Mmu.Lookup(ram, ctx.Roots[space], virt);
        var expected = ctx.Model.Lookup(space, virt);
        string where = $"space{space} 0x{virt:X}";
        if (expected is not { } model)
        {
            if (actual.IsOk)
                FailAt(ctx, clause, $"{where}: the MMU translates it ({actual.Leaf}) but it should be unmapped", space, virt);
            return;
        }
        if (!actual.IsOk)
            FailAt(ctx, clause, $"{where}: the MMU faults ({actual.Fault}) but it should map to 0x{model.Mapping.Phys + (virt - model.Base):X}", space, virt);
        CompareLeaf(ctx, space, actual.Leaf, model.Base, model.Mapping, clause);
    }

    /// <summary>
    /// Whether every shared PML4 slot of <paramref name="space"/> holds the very entry the first space holds there: then
    /// it reaches the same tables with the same rights, walked once already (with six spaces, the direct map is most of a walk).
    /// </summary>
    private static bool SharedSlotsAsFirst(SequenceContext ctx, RamView ram, int space) =>
        space > 0 && ctx.Model.SharedSlots.All(slot => ram.ReadU64(ctx.Roots[space] + (ulong)slot * 8) == ram.ReadU64(ctx.Roots[0] + (ulong)slot * 8));

    /// <summary>
    /// Leaves and the model's mappings both come in increasing address order: one merge finds every difference.
    /// Only the PML4 slots <paramref name="slots"/> accepts are walked (all when null), and compared with
    /// <paramref name="mappings"/>, the model's map of those slots.
    /// </summary>
    private static void CompareLeaves(SequenceContext ctx, RamView ram, int space, string clause, Predicate<int>? slots,
                                      ImmutableSortedDictionary<ulong, Mapping> mappings, Action<TablePage> tables)
    {
        using IEnumerator<(ulong Base, Mapping Mapping)> expected = mappings.Select(pair => (pair.Key, pair.Value)).GetEnumerator();
        bool pending = expected.MoveNext();
        foreach (MappedLeaf leaf in Mmu.EnumerateLeaves(ram, ctx.Roots[space], slots, tables))
        {
            if (pending && expected.Current.Base < leaf.VirtualBase)
                break;
            if (!pending || expected.Current.Base > leaf.VirtualBase)
                FailAt(ctx, clause, $"space{space}: the page tables map {leaf}, which the model does not have", space, leaf.VirtualBase);
            CompareLeaf(ctx, space, leaf, leaf.VirtualBase, expected.Current.Mapping, clause);
            pending = expected.MoveNext();
        }
        if (pending)
            FailAt(ctx, clause, $"space{space}: 0x{expected.Current.Base:X} should map {expected.Current.Mapping} but the page tables have no such page", space, expected.Current.Base);
    }

    private static void CompareLeaf(SequenceContext ctx, int space, MappedLeaf leaf, ulong expectedBase, Mapping mapping, string clause)
    {
        if (leaf.VirtualBase != expectedBase || leaf.Bytes != mapping.Size || leaf.PhysicalBase != mapping.Phys)
            FailAt(ctx, clause, $"space{space} 0x{expectedBase:X}: the page tables hold {leaf}; the model says {mapping}", space, expectedBase);
        Rights actual = BootState.RightsOf(leaf.Permissions);
        if (actual == mapping.Rights)
            return;
        // Boot mappings keep the rights observed at boot; the direct map must stay supervisor-only.
        string changed = mapping.Kind switch
        {
            MappingKind.DirectMap when actual.HasFlag(Rights.User) => "DMAP-01",
            MappingKind.DirectMap or MappingKind.Boot => "DMAP-10",
            _ => "MAP-04",
        };
        string made = mapping.Kind is MappingKind.DirectMap or MappingKind.Boot ? "it had at boot" : "the mapping was made with";
        FailAt(ctx, changed, $"space{space} 0x{expectedBase:X}: effective permissions through all levels are {leaf.Permissions}, but {made} {mapping.Rights}", space, expectedBase);
    }
}

/// <summary>
/// What one audit's walks found, part by part, under the model's shared kernel slots then: an audit whose walks are
/// the same (each part the very list a memo kept, or one equal to it) finds the same tables with the same reach.
/// </summary>
internal sealed record TableWalks(List<(int Space, List<TablePage> Tables)> Parts, ImmutableSortedSet<int> SharedSlots)
{
    public bool SameAs(TableWalks? before)
    {
        if (before is null || !ReferenceEquals(before.SharedSlots, SharedSlots) || before.Parts.Count != Parts.Count)
            return false;
        for (int index = 0; index < Parts.Count; index++)
        {
            (int space, List<TablePage> tables) = Parts[index];
            if (space != before.Parts[index].Space || !(ReferenceEquals(tables, before.Parts[index].Tables) || tables.SequenceEqual(before.Parts[index].Tables)))
                return false;
        }
        return true;
    }
}

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
        try
        {
            foreach ((int space, ulong virt) in ctx.Touched)
                foreach (int seen in SpacesSeeing(ctx, space, virt))
                    CompareTranslation(ctx, ram, seen, virt, clause);
            // Judged against the ownership before the step, before it is rebuilt; what the calls wrote also tells the
            // walk which spaces may have changed (null: a call could not tell, or the suite made unrecorded calls).
            IReadOnlySet<ulong>? written = WriteCheck.AfterStep(ctx);
            if (ctx.UnrecordedCalls || ctx.AuditMode == AuditMode.Full)
                written = null;
            ctx.UnrecordedCalls = false;
            List<TablePage>[] spaceTables = WalkSpaces(ctx, ram, clause, written);
            var tables = new Dictionary<ulong, (PagingLevel Level, TableReach Reach)>();
            for (int space = 0; space < spaceTables.Length; space++)
                foreach (TablePage table in spaceTables[space])
                {
                    bool shared = table.Level != PagingLevel.Pml4 && ctx.Model.IsShared(table.VirtualBase);
                    TableReach known = tables.GetValueOrDefault(table.PhysicalAddress).Reach;
                    tables[table.PhysicalAddress] = (table.Level, new TableReach(known.Spaces | (space < 64 ? 1UL << space : 0), known.Shared || shared));
                }
            foreach (ulong page in tables.Keys)
                ctx.Check(page < ctx.Implementation.RamSize, "PHYS-01", $"page table at 0x{page:X} lies outside RAM");
            (OwnershipMap owned, Conflict? conflict) = OwnershipMap.Build(ctx.Model, tables, ctx.Implementation.RamSize);
            if (conflict is { } found)
                ctx.Fail(found.Clause, found.Message, state: OwnerChecks(found));
            ctx.Owned = owned;
        }
        catch (MalformedPageTableException malformed)
        {
            ctx.Fail(clause, $"the page tables hold a malformed entry: {malformed.Message}");
        }
        catch (WalkOutsideRamException outside)
        {
            ctx.Fail(clause, $"the page tables point outside RAM: {outside.Message}");
        }
        if (ctx.Patterns.FirstDamage() is ({ } damage, { } marks))
            ctx.Fail(DamageClause(damage), damage, state: [marks]);
        ctx.Touched.Clear();
    }

    /// <summary>
    /// Compares every space's tables with the model and returns the tables each holds. With the frames the calls
    /// since the last audit wrote (<paramref name="written"/>; null: unknown, or a full audit wanted), a space the
    /// step cannot have changed keeps what the last audit found (<see cref="AuditMemo"/>); in
    /// <see cref="AuditMode.Both"/> it is walked anyway and must agree.
    /// </summary>
    private static List<TablePage>[] WalkSpaces(SequenceContext ctx, RamView ram, string clause, IReadOnlySet<ulong>? written)
    {
        AuditMemo? memo = written is null ? null : ctx.LastAudit;
        var found = new List<TablePage>[ctx.Roots.Count];
        var skipsShared = new bool[ctx.Roots.Count];
        for (int space = 0; space < ctx.Roots.Count; space++)
        {
            skipsShared[space] = SharedSlotsAsFirst(ctx, ram, space);
            bool unchanged = memo is not null && memo.Unchanged(ctx.Model, ctx.Roots, space, skipsShared[space], written!);
            if (unchanged && ctx.AuditMode == AuditMode.Incremental)
            {
                found[space] = memo!.Tables[space];
                continue;
            }
            Predicate<int>? slots = skipsShared[space] ? slot => !ctx.Model.SharedSlots.Contains(slot) : null;
            var walked = new List<TablePage>();
            try
            {
                CompareLeaves(ctx, ram, space, clause, slots, walked.Add);
            }
            catch (ViolationException violation) when (unchanged)
            {
                throw new AuditDisagreementException($"the incremental audit would have skipped space{space} after step {ctx.Step}, which the full audit finds broken: {violation.Violation.Message}");
            }
            if (unchanged && !walked.SequenceEqual(memo!.Tables[space]))
                throw new AuditDisagreementException($"the incremental audit would have skipped space{space} after step {ctx.Step}, whose tables changed");
            found[space] = walked;
        }
        ctx.LastAudit = new AuditMemo(ctx.Model, [.. ctx.Roots], skipsShared, found);
        return found;
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
    /// With <paramref name="slots"/> (every slot but the shared ones), only the space's own.
    /// </summary>
    private static void CompareLeaves(SequenceContext ctx, RamView ram, int space, string clause, Predicate<int>? slots, Action<TablePage> tables)
    {
        // Without the shared slots, what is left to compare is the space's own mappings.
        IEnumerable<(ulong Base, Mapping Mapping)> mappings = slots is null
            ? ctx.Model.MappingsOf(space)
            : ctx.Model.SpaceMappings[space].Select(pair => (pair.Key, pair.Value));
        using IEnumerator<(ulong Base, Mapping Mapping)> expected = mappings.GetEnumerator();
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

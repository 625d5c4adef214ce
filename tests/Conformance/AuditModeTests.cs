using Mmspec.Models.State;
using Mmspec.SpecTests.Adapters;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Port;
using Mmspec.SpecTests.Properties;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// The incremental audit walks only the spaces a step may have changed (its write sets, the model's changes); the
/// full audit walks everything. <see cref="AuditMode.Both"/> runs the two on every step and fails on any disagreement:
/// here on conformance runs of the reference and of zoo members that break the tables, and on an implementation
/// that hides its writes, where it must fire.
/// </summary>
public sealed class AuditModeTests
{
    public static TheoryData<string> StatefulProperties() =>
        [.. PropertyCatalogue.All.Where(property => property.Id.StartsWith("stateful.", StringComparison.Ordinal)).Select(property => property.Id)];

    [Theory, MemberData(nameof(StatefulProperties))]
    public void Both_audits_agree_on_every_step_of_the_reference(string propertyId)
    {
        PropertyResult result = PropertyCatalogue.Find(propertyId).Check(new ReferenceFactory(), new RunSettings(Profile.Default, MaxTest: 40, Audit: AuditMode.Both));
        Assert.True(result.Verdict == Verdict.Passed, result.Failure?.Describe());
    }

    [Theory]
    [InlineData("umap-leaves-present")]
    [InlineData("free-page-still-mapped")]
    [InlineData("table-not-zeroed")]
    public void Both_audits_agree_on_zoo_members_and_find_what_the_incremental_audit_finds(string member)
    {
        ZooMember zoo = ZooCatalogue.Find(member);
        ISpecProperty property = PropertyCatalogue.Find(zoo.CaughtBy);
        PropertyResult incremental = property.Check(zoo.Factory, new RunSettings(Profile.Default));
        PropertyResult both = property.Check(zoo.Factory, new RunSettings(Profile.Default, Audit: AuditMode.Both));
        Assert.Equal(incremental.Failure?.Violation.Clause, both.Failure?.Violation.Clause);
        Assert.Equal(incremental.Failure?.Violation.Message, both.Failure?.Violation.Message);
    }

    [Fact]
    public void An_implementation_that_hides_a_table_write_is_caught_by_the_full_audit_and_both_disagree()
    {
        var factory = new DecoratedFactory("vmfind-unmaps-behind-the-write-sets", inner => new UnmapsOnKmallocHidingWrites(inner));
        IReadOnlyList<Operation> steps =
        [
            new AllocPages(1, Contiguous: false),
            new MapSingle(0, new AddressPick(Area.UserLow, 0), 0, Rights.Write),
            new VmFind(1, new SearchRange(new AddressPick(Area.UserLow, 0), 1024, 0), 1),
        ];
        SequenceResult full = SequenceRunner.Run(factory, Profile.Default, steps, audit: AuditMode.Full);
        Assert.Equal(3, full.Violation?.Step);
        Assert.Contains("should map", full.Violation!.Message, StringComparison.Ordinal);

        var disagreement = Assert.Throws<AuditDisagreementException>(() => SequenceRunner.Run(factory, Profile.Default, steps, audit: AuditMode.Both));
        Assert.Contains("would have skipped space0 after step 3", disagreement.Message, StringComparison.Ordinal);
    }

    /// <summary>vmfind also unmaps the page mapped last, and the write sets say nothing was ever written.</summary>
    private sealed class UnmapsOnKmallocHidingWrites(IMmImplementation inner) : PortDecorator(inner)
    {
        private (ulong Space, ulong Virt)? mapped;

        public override IWriteTracking? Writes => new Blind(Inner.Writes!);

        public override int mm_map_single(ulong space, ulong virt, ulong phys, ulong flags)
        {
            int result = Inner.mm_map_single(space, virt, phys, flags);
            mapped = (space, virt);
            return result;
        }

        public override ulong vmfind(ulong space, ulong from, ulong to, ulong npages)
        {
            if (mapped is { } last)
                Inner.mm_umap_single(last.Space, last.Virt, 0);
            mapped = null;
            return Inner.vmfind(space, from, to, npages);
        }

        private sealed class Blind(IWriteTracking inner) : IWriteTracking
        {
            public IReadOnlyList<ulong>? TakeWrittenFrames()
            {
                inner.TakeWrittenFrames();
                return [];
            }
        }
    }
}

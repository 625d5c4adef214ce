using Mmspec.Models.State;
using Mmspec.SpecTests.Catalogue;
using Mmspec.SpecTests.Execution;
using Mmspec.SpecTests.Sequences;
using Mmspec.Zoo;

namespace Mmspec.Tests.Conformance;

/// <summary>
/// The picture of the failing state (<see cref="StatePictureRecorder"/>): where a check of the state failed, the frames
/// and mappings that differ are the ones the violation is about; where the implementation panicked, it is the state
/// after the last good step; and the same sequence draws the same picture.
/// </summary>
public sealed class StatePictureTests
{
    private static readonly AddressPick UserLow = new(Area.UserLow, 0);

    /// <summary>vmalloc one page, vmfree it: free-page-still-mapped frees the frame but leaves it mapped.</summary>
    private static readonly IReadOnlyList<Operation> AllocThenFreeRegion =
        [new VmAlloc(0, new SearchRange(UserLow, 1024, 0), 1, Rights.Write), new VmFree(0, FreeExtent.Whole)];

    [Fact]
    public void A_region_freed_but_left_mapped_shows_its_frame_as_free_in_the_model_and_mapped_in_the_tables()
    {
        (SequenceResult result, StatePicture picture) = Run("free-page-still-mapped", AllocThenFreeRegion);

        Assert.Equal(2, result.Violation!.Step);
        Assert.Equal(2, picture.Step);
        Assert.False(picture.BeforeFault);
        Assert.StartsWith("after step 2 (", picture.When);
        ulong region = result.Trace.Single(call => call.Call.Function == ApiFunction.vmalloc).Outcome.Value;
        ulong frame = result.Trace.First(call => call.Call.Function == ApiFunction.mm_map_get && call.Call.Args[1].Value == region).Outcome.Value;
        int index = (int)(frame / AddressSpaceLayout.PageSize);
        Assert.Equal([index], picture.DifferingFrames());
        Assert.Equal(FrameUse.Free, picture.ModelFrames[index]);
        Assert.Equal(FrameUse.Stray, picture.ImplementationFrames[index]);

        SpacePicture space0 = picture.Spaces[0];
        MappingRange stray = Assert.Single(space0.Tables, range => range.Differs);
        Assert.Equal((region, AddressSpaceLayout.PageSize, frame), (stray.Virt, stray.Bytes, stray.Phys));
        Assert.DoesNotContain(space0.Model, range => range.Differs);
        Assert.False(picture.Spaces[1].Differs);
        MappingRange directMap = Assert.Single(space0.Model, range => range.What == "direct map");
        Assert.Equal((AddressSpaceLayout.KernelBase, AddressSpaceLayout.DirectMapSize), (directMap.Virt, directMap.Bytes)); // 512 pages of 2 MiB, one range
    }

    [Fact]
    public void After_a_panic_the_picture_is_the_state_after_the_last_good_step()
    {
        // contiguous-short-by-one hands out a page it never marks used: freeing it at teardown panics.
        (SequenceResult result, StatePicture picture) = Run("contiguous-short-by-one", [new AllocPages(1, Contiguous: true)]);

        Assert.Equal(CallEnd.Panicked, result.Trace[^1].End);
        Assert.True(picture.BeforeFault);
        Assert.Equal(1, picture.Step);
        Assert.Contains("the last good state: the implementation panicked in mm_phys_free_page()", picture.When);
        ulong page = result.Trace[0].Outcome.Value;
        Assert.Equal(FrameUse.Client, picture.ModelFrames[(int)(page / AddressSpaceLayout.PageSize)]);
    }

    [Fact]
    public void The_same_sequence_draws_the_same_picture()
    {
        StatePicture first = Run("free-page-still-mapped", AllocThenFreeRegion).Picture;
        StatePicture second = Run("free-page-still-mapped", AllocThenFreeRegion).Picture;

        Assert.Equal(first.When, second.When);
        Assert.Equal(first.ModelFrames, second.ModelFrames);
        Assert.Equal(first.ImplementationFrames, second.ImplementationFrames);
        Assert.Equal(first.Spaces.SelectMany(space => space.Model.Concat(space.Tables)), second.Spaces.SelectMany(space => space.Model.Concat(space.Tables)));
    }

    [Fact]
    public void A_passing_run_has_no_picture()
    {
        var recorder = new StatePictureRecorder();
        SequenceResult result = SequenceRunner.Run(ZooCatalogue.Find("free-page-still-mapped").Factory, Profile.Default, [new AllocPages(1, Contiguous: false)], picture: recorder);

        Assert.True(result.Passed);
        Assert.Null(recorder.Picture);
    }

    private static (SequenceResult Result, StatePicture Picture) Run(string member, IReadOnlyList<Operation> steps)
    {
        var recorder = new StatePictureRecorder();
        SequenceResult result = SequenceRunner.Run(ZooCatalogue.Find(member).Factory, Profile.Default, steps, picture: recorder);
        Assert.False(result.Passed, "the sequence should fail");
        return (result, recorder.Picture ?? throw new InvalidOperationException("a failed run should leave a picture"));
    }
}

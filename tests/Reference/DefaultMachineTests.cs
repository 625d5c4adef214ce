using Mmspec.Reference.Api;
using Mmspec.Reference.Memory;
using static Mmspec.Tests.Reference.TestKernel;

namespace Mmspec.Tests.Reference;

/// <summary>The machine a caller gets without options: 1 GiB of RAM (the whole direct map), low 1 MiB reserved.</summary>
public class DefaultMachineTests
{
    [Fact]
    public void WithoutOptions_TheMachineHas1GiBOfRam_AndKeepsItsFirstMiB()
    {
        var api = new MmApi();

        Assert.Equal(Layout.DefaultRamSize, api.Kernel.Ram.Size);
        Assert.Equal(GiB, api.Kernel.Ram.Size);
        Assert.Equal(FreeAfterBoot(GiB), api.Kernel.Frames.FreeFrames);
        ulong first = api.mm_phys_alloc_page();
        Assert.True(first >= MiB, $"0x{first:X} lies in the reserved first MiB");
        Assert.True(api.Kernel.Frames.IsReserved(0));
        Assert.True(api.Kernel.Frames.IsReserved(MiB - Page));
    }
}

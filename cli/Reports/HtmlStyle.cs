using Mmspec.SpecTests.Execution;

namespace Mmspec.Cli.Reports;

/// <summary>
/// report.html's style sheet, inline so that the file is the whole page, and the colours of the picture. The colour of
/// a difference (<see cref="DiffColour"/>) is used for nothing else, so that a screenshot can tell that one is shown.
/// </summary>
public static class HtmlStyle
{
    public const string DiffColour = "#e6007e";

    /// <summary>Frames per row of a strip: 512 KiB of RAM.</summary>
    public const int FramesPerRow = 128;

    public static string ColourOf(FrameUse use) => use switch
    {
        FrameUse.Free => "#e8e8e8",
        FrameUse.Reserved => "#8c8c8c",
        FrameUse.Table => "#f28e2b",
        FrameUse.Client => "#4e79a7",
        FrameUse.Region => "#59a14f",
        FrameUse.Heap => "#b07aa1",
        _ => "#edc948",
    };

    public static string ClassOf(FrameUse use) => "u-" + use.ToString().ToLowerInvariant();

    public static string Describe(FrameUse use) => use switch
    {
        FrameUse.Free => "free",
        FrameUse.Reserved => "kept by the implementation since boot",
        FrameUse.Table => "page table",
        FrameUse.Client => "client page",
        FrameUse.Region => "vmalloc region page",
        FrameUse.Heap => "heap",
        _ => "mapped by the page tables, owner unknown to the model",
    };

    public static string Sheet => $$"""
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #1d1d1d; background: #fff; }
        h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.2em; margin: 1.6em 0 .4em; } h3 { font-size: 1.05em; margin: 1.2em 0 .3em; }
        code, pre { font: 12px/1.35 ui-monospace, monospace; } pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
        .verdict { padding: .1em .5em; border-radius: 3px; color: #fff; } .verdict.conformant { background: #2e7d32; }
        .verdict.nonconformant { background: #b00020; } .verdict.interrupted { background: #8d6e00; }
        .meta { color: #555; margin: .1em 0; }
        blockquote { margin: .4em 0; padding: .4em .8em; border-left: 4px solid #b00020; background: #fff4f4; white-space: pre-wrap; }
        .ctl { color: #b00020; background: #fde; }
        table { border-collapse: collapse; margin: .3em 0; } th, td { text-align: left; padding: 1px 8px; vertical-align: top; }
        th { border-bottom: 1px solid #999; } td { border-bottom: 1px solid #eee; }
        .trace .step td { background: #f0f0f0; font-weight: 600; } .trace .failing td { background: #fff0c0; }
        .trace .cross td { color: #777; } .trace .fault td { color: #b00020; }
        .clauses .fail { color: #b00020; font-weight: 600; } .clauses .pass { color: #2e7d32; } .clauses .expected-fail { color: #8d6e00; }
        .legend span { display: inline-block; margin-right: 1.2em; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
        .strip { display: grid; grid-template-columns: 72px repeat({{FramesPerRow}}, 7px); gap: 1px; margin: .2em 0 .8em; }
        .strip i { height: 7px; background-image: repeating-linear-gradient(to right, transparent 0 7px, #fff 7px 8px); } .strip b { font: 9px/7px ui-monospace, monospace; color: #666; font-weight: normal; white-space: nowrap; }
        .strip i.diff { outline: 2px solid {{DiffColour}}; position: relative; z-index: 1; background-image: none; }
        .legend i.swatch-highlight { outline: 2px solid {{DiffColour}}; background: #fff; }
        {{string.Join("\n", Enum.GetValues<FrameUse>().Select(use => $".{ClassOf(use)} {{ background: {ColourOf(use)}; }}"))}}
        .spaces { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 2em; }
        .mappings td:not(:last-child) { white-space: nowrap; } .mappings tr.diff td { background: #ffe3f1; } .mappings tr.diff td:first-child { border-left: 4px solid {{DiffColour}}; }
        .same { color: #2e7d32; } .different { color: {{DiffColour}}; font-weight: 600; }
        details > summary { cursor: pointer; }
        """;
}

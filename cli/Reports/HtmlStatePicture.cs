using System.Text;
using Mmspec.Models.State;
using Mmspec.SpecTests.Execution;

namespace Mmspec.Cli.Reports;

/// <summary>
/// A <see cref="StatePicture"/> as HTML: the physical frames as two strips coloured by owner, the model's above the
/// implementation's so that one frame sits at the same place in both, and each space's mappings as address ranges,
/// model beside page tables. Whatever differs carries the class <c>diff</c> and an id (<c>{prefix}-impl-frame-{n}</c>,
/// <c>{prefix}-space{s}-tables-0x{virt}</c>) with the frame or address in data attributes, for people and for tests.
/// </summary>
public static class HtmlStatePicture
{
    /// <summary>Beyond this many cells a strip gets too long to look at: larger RAM shows several frames per cell.</summary>
    public const int MaxCells = 8192;

    private const int ListedFrames = 64;

    public static void Render(StringBuilder html, StatePicture picture, string prefix)
    {
        html.AppendLine($"<h3>The state {Html.Text(picture.When)}</h3>");
        if (picture.BeforeFault)
            html.AppendLine("<p class=\"meta\">What the fault left behind cannot be trusted (a crashed host leaves nothing), so this is the state before it.</p>");
        html.Append("<p class=\"legend\">");
        foreach (FrameUse use in Enum.GetValues<FrameUse>())
            html.Append($"<span><i class=\"{HtmlStyle.ClassOf(use)}\"></i>{Html.Text(HtmlStyle.Describe(use))}</span>");
        html.AppendLine("<span><i class=\"swatch-highlight\"></i>differs</span></p>");

        int perCell = FramesPerCell(picture.FrameCount);
        string scale = perCell == 1 ? "one cell per 4 KiB frame" : $"one cell per {perCell} frames ({perCell * 4} KiB), coloured by the first that differs or else by the most common owner";
        html.AppendLine($"<p class=\"meta\">Physical frames, 0x0 to 0x{picture.RamSize:X}, {scale}, {HtmlStyle.FramesPerRow * perCell * 4} KiB per row.</p>");
        Strip(html, picture, picture.ModelFrames, "model", "Model: who should own each frame", prefix, perCell);
        Strip(html, picture, picture.ImplementationFrames, "impl", "Implementation: what its page tables and returned values show", prefix, perCell);
        DifferingFrames(html, picture);

        html.AppendLine("<h3>Mappings per space: model beside page tables</h3>");
        foreach (SpacePicture space in picture.Spaces)
            Space(html, space, prefix);
    }

    public static int FramesPerCell(int frames)
    {
        int perCell = 1;
        while ((frames + perCell - 1) / perCell > MaxCells)
            perCell *= 2;
        return perCell;
    }

    /// <summary>
    /// One strip, row by row. A run of cells alike in a row is one element spanning them (the style sheet draws the cell
    /// borders), so that a page stays small however much RAM is free; a differing cell always stands alone.
    /// </summary>
    private static void Strip(StringBuilder html, StatePicture picture, IReadOnlyList<FrameUse> uses, string side, string title, string prefix, int perCell)
    {
        html.AppendLine($"<h4>{Html.Text(title)}</h4>");
        html.Append($"<div class=\"strip\" id=\"{prefix}-{side}-frames\">");
        List<Cell> cells = Cells(picture, uses, perCell);
        for (int row = 0; row * HtmlStyle.FramesPerRow < cells.Count; row++)
        {
            int first = row * HtmlStyle.FramesPerRow, end = Math.Min(cells.Count, first + HtmlStyle.FramesPerRow);
            // A label every 2 MiB (four rows at one frame per cell): more would be too small to read.
            html.Append(row % 4 == 0 ? $"<b>0x{Phys(first * perCell):X}</b>" : "<b></b>");
            for (int cell = first; cell < end;)
            {
                int run = 1;
                while (cell + run < end && !cells[cell].Differs && cells[cell + run] is { Differs: false } next && next.Use == cells[cell].Use)
                    run++;
                html.Append(CellElement(cells[cell], cells[cell + run - 1].LastFrame, run, side, prefix, picture));
                cell += run;
            }
        }
        html.AppendLine("</div>");
    }

    /// <summary>What a cell shows: its first differing frame if any, else its most common owner.</summary>
    private static List<Cell> Cells(StatePicture picture, IReadOnlyList<FrameUse> uses, int perCell)
    {
        var cells = new List<Cell>((uses.Count + perCell - 1) / perCell);
        for (int first = 0; first < uses.Count; first += perCell)
        {
            int last = Math.Min(uses.Count, first + perCell) - 1;
            int differing = Enumerable.Range(first, last - first + 1).FirstOrDefault(picture.FrameDiffers, -1);
            FrameUse use = differing >= 0 ? uses[differing]
                : Enumerable.Range(first, last - first + 1).GroupBy(frame => uses[frame]).MaxBy(group => group.Count())!.Key;
            cells.Add(new Cell(differing >= 0 ? differing : first, last, use, differing >= 0));
        }
        return cells;
    }

    private static string CellElement(Cell cell, int lastFrame, int run, string side, string prefix, StatePicture picture)
    {
        string use = HtmlStyle.ClassOf(cell.Use);
        if (cell.Differs)
        {
            string damaged = picture.DamagedFrames.Contains(cell.Frame) ? "; a mark the suite wrote in it was overwritten" : "";
            string what = $"frame 0x{Phys(cell.Frame):X}: {HtmlStyle.Describe(cell.Use)}{damaged}";
            return $"<i class=\"{use} diff\" id=\"{prefix}-{side}-frame-{cell.Frame}\" data-frame=\"{cell.Frame}\" data-phys=\"0x{Phys(cell.Frame):X}\" title=\"{Html.Attribute(what)}\"></i>";
        }
        string span = run > 1 ? $" style=\"grid-column: span {run}\"" : "";
        string frames = lastFrame == cell.Frame ? $"frame 0x{Phys(cell.Frame):X}" : $"frames 0x{Phys(cell.Frame):X} to 0x{Phys(lastFrame):X}";
        return $"<i class=\"{use}\"{span} title=\"{frames}: {Html.Attribute(HtmlStyle.Describe(cell.Use))}\"></i>";
    }

    private static ulong Phys(int frame) => (ulong)frame * AddressSpaceLayout.PageSize;

    /// <param name="Frame">The frame the cell stands for: its first, or the first that differs.</param>
    private readonly record struct Cell(int Frame, int LastFrame, FrameUse Use, bool Differs);

    private static void DifferingFrames(StringBuilder html, StatePicture picture)
    {
        List<int> differing = picture.DifferingFrames().ToList();
        if (differing.Count == 0)
        {
            html.AppendLine("<p class=\"same\">Every frame has the owner the model expects.</p>");
            return;
        }
        html.AppendLine($"<p class=\"different\">{differing.Count} frame(s) differ:</p><ul class=\"frames\">");
        foreach (int frame in differing.Take(ListedFrames))
        {
            string damaged = picture.DamagedFrames.Contains(frame) ? "; a mark the suite wrote in it was overwritten" : "";
            html.AppendLine($"<li data-frame=\"{frame}\"><code>0x{(ulong)frame * AddressSpaceLayout.PageSize:X}</code>: model "
                            + $"{Html.Text(HtmlStyle.Describe(picture.ModelFrames[frame]))}, implementation {Html.Text(HtmlStyle.Describe(picture.ImplementationFrames[frame]))}{damaged}</li>");
        }
        if (differing.Count > ListedFrames)
            html.AppendLine($"<li>and {differing.Count - ListedFrames} more</li>");
        html.AppendLine("</ul>");
    }

    private static void Space(StringBuilder html, SpacePicture space, string prefix)
    {
        int differing = space.Model.Count(range => range.Differs) + space.Tables.Count(range => range.Differs);
        string summary = space.Differs ? $"<span class=\"different\">{differing} range(s) differ</span>" : "<span class=\"same\">the same</span>";
        html.AppendLine($"<details{(space.Differs ? " open" : "")}><summary>space{space.Space}: {summary}</summary>");
        if (space.WalkProblem is { } problem)
            html.AppendLine($"<p class=\"different\">{Html.Text(problem)}</p>");
        html.AppendLine("<div class=\"spaces\">");
        Ranges(html, space.Space, space.Model, "model", "Model", prefix);
        Ranges(html, space.Space, space.Tables, "tables", "Page tables", prefix);
        html.AppendLine("</div></details>");
    }

    private static void Ranges(StringBuilder html, int space, IReadOnlyList<MappingRange> ranges, string side, string title, string prefix)
    {
        html.AppendLine($"<div><h4>{title}</h4><table class=\"mappings\" id=\"{prefix}-space{space}-{side}\">");
        html.AppendLine("<tr><th>virtual</th><th>size</th><th>physical</th><th>rights</th><th>what</th></tr>");
        if (ranges.Count == 0)
            html.AppendLine("<tr><td colspan=\"5\">nothing mapped</td></tr>");
        foreach (MappingRange range in ranges)
        {
            string cells = $"<td><code>0x{range.Virt:X}–0x{range.LastVirt:X}</code></td><td>{SizeText(range.Bytes)}</td><td><code>0x{range.Phys:X}</code></td>"
                           + $"<td>{RightsText(range.Rights)}</td><td>{Html.Text(range.What)}</td>";
            html.AppendLine(range.Differs
                ? $"<tr class=\"diff\" id=\"{prefix}-space{space}-{side}-0x{range.Virt:X}\" data-space=\"{space}\" data-virt=\"0x{range.Virt:X}\">{cells}</tr>"
                : $"<tr>{cells}</tr>");
        }
        html.AppendLine("</table></div>");
    }

    private static string SizeText(ulong bytes) =>
        bytes % (1UL << 30) == 0 ? $"{bytes >> 30} GiB" : bytes % (1UL << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    private static string RightsText(Rights rights) =>
        $"{(rights.HasFlag(Rights.User) ? "user" : "kernel")} r{(rights.HasFlag(Rights.Write) ? 'w' : '-')}{(rights.HasFlag(Rights.Exec) ? 'x' : '-')}";
}

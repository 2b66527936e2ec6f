package compare

import (
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Colours of the two families of designs in the chart.
var (
	preForkedColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	baselineColor  = color.RGBA{R: 0xaa, G: 0xaa, B: 0xaa, A: 0xff}
)

// writeChart draws throughput and p99 latency by design, side by side, as
// an SVG file at path.
func (rep *Report) writeChart(path string) error {
	modes := make([]string, len(rep.Results))
	for i, r := range rep.Results {
		modes[i] = string(r.Mode)
	}
	throughput := func(r *Result) float64 { return r.Load.Throughput }
	p99 := func(r *Result) float64 { return float64(r.Load.Latency.P99) / 1e6 }
	left, err := rep.barPlot("Throughput", "requests/s", modes, throughput)
	if err != nil {
		return err
	}
	right, err := rep.barPlot("p99 latency", "milliseconds", modes, p99)
	if err != nil {
		return err
	}
	left.Legend.Add("pre-forked", &plotter.BarChart{Color: preForkedColor})
	left.Legend.Add("baseline", &plotter.BarChart{Color: baselineColor})
	left.Legend.Top = true

	const w, h = 30 * vg.Centimeter, 11 * vg.Centimeter
	img := vgsvg.New(w, h)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, tiles, draw.New(img))
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// barPlot is one bar per design, coloured by family; a design that was not
// measured gets no bar.
func (rep *Report) barPlot(title, unit string, modes []string, value func(*Result) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = unit
	p.X.Label.Text = rep.Title()
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	pre := make(plotter.Values, len(rep.Results))
	base := make(plotter.Values, len(rep.Results))
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Load == nil {
			continue
		}
		if r.PreForked {
			pre[i] = value(r)
		} else {
			base[i] = value(r)
		}
	}
	for _, s := range []struct {
		v plotter.Values
		c color.Color
	}{{pre, preForkedColor}, {base, baselineColor}} {
		bars, err := plotter.NewBarChart(s.v, vg.Centimeter)
		if err != nil {
			return nil, err
		}
		bars.Color = s.c
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	p.Add(plotter.NewGrid())
	p.NominalX(modes...)
	p.X.Min, p.X.Max = -0.5, float64(len(modes))-0.5
	// Headroom above the tallest bar keeps the legend clear of it.
	p.Y.Min, p.Y.Max = 0, p.Y.Max*1.2
	p.Y.Tick.Marker = plainTicks{}
	return p, nil
}

// plainTicks are plot.DefaultTicks labelled without trailing zeros
// ("50000", not "50000.00").
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

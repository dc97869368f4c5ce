package flywheel_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clmkit/clm/flywheel"
)

// TestWriteSVGBandInsidePlot: quantile levels are kept in the order given,
// so the band's last level may be its lower edge; the y scale fits both
// edges, and the band stays inside the plot area (below y = 48, the top
// margin).
func TestWriteSVGBandInsidePlot(t *testing.T) {
	p := flywheel.LiteratureExample()
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(400), flywheel.Seed(3),
		flywheel.Quantiles(0.95, 0.05))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mc.WriteSVG(&buf, flywheel.ReferredProspects); err != nil {
		t.Fatal(err)
	}
	poly := regexp.MustCompile(`<polygon points="([^"]*)"`).FindStringSubmatch(buf.String())
	if poly == nil {
		t.Fatal("no band drawn")
	}
	minY := 1e9
	for _, pt := range strings.Fields(poly[1]) {
		y, _ := strconv.ParseFloat(pt[strings.IndexByte(pt, ',')+1:], 64)
		minY = min(minY, y)
	}
	if minY < 48 {
		t.Errorf("Quantiles(0.95, 0.05): band reaches y = %.1f, above the plot area (top at y = 48)", minY)
	}
}

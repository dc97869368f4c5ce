package lifecycle_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

// An offset of 24 hours or more is not RFC 3339 (time.Parse accepts it,
// json.Marshal cannot write it back), so it is refused; ±23:59 round-trips.
func TestEventJSONTimeOffset(t *testing.T) {
	for _, off := range []string{"+24:00", "-24:00", "+24:30"} {
		in := `{"id":"e","customer_id":"c","type":"site_visited","time":"2026-03-01T10:00:00` + off + `"}`
		var e lifecycle.Event
		err := json.Unmarshal([]byte(in), &e)
		checkField(t, err, "time")
		_, err = lifecycle.DecodeEvents([]byte(in))
		checkField(t, err, "time")
	}
	for _, off := range []string{"+23:59", "-23:59", "+05:45"} {
		in := `{"id":"e","customer_id":"c","type":"site_visited","time":"2026-03-01T10:00:00` + off + `"}`
		var e lifecycle.Event
		require.NoError(t, json.Unmarshal([]byte(in), &e))
		b, err := json.Marshal(e)
		require.NoError(t, err)
		require.True(t, strings.Contains(string(b), `"time":"2026-03-01T10:00:00`+off+`"`), string(b))
	}
}

func TestDecodeEventsErrorIndexFromZero(t *testing.T) {
	in := `[{"id":"a"},{"id":1},{"id":"c"},{"colour":"red"}]`
	_, err := lifecycle.DecodeEvents([]byte(in))
	require.ErrorIs(t, err, lifecycle.ErrInvalidEvent)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "event 1: "), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "event 3: "), lines[1])
	var ve *lifecycle.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "id", ve.Field)
}

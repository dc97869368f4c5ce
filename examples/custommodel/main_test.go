package main

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-seed", "7", "-customers", "200"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, `model "subscription-box": 5 stages`) || !strings.Contains(text, "modeltest: ok") {
		t.Fatalf("missing model summary:\n%s", text)
	}
	if !strings.Contains(text, " events for 200 customers;") {
		t.Errorf("the event line does not count the 200 customers:\n%s", text)
	}
	// The stage table counts every customer once.
	sum, total := 0, -1
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		switch f[0] {
		case "Trial", "Activated", "Subscribed", "Renewed", "Champion":
			sum += n
			if f[0] == "Champion" && n == 0 {
				t.Errorf("no champions in a year of 200 customers:\n%s", text)
			}
		case "total":
			total = n
		}
	}
	if sum != 200 || total != 200 {
		t.Errorf("stage counts sum to %d, total %d, want 200:\n%s", sum, total, text)
	}
}

func TestSubscriptionBoxIsValid(t *testing.T) {
	m, err := subscriptionBox()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Stages().IDs(); len(got) != 5 || got[0] != "trial" || got[4] != "champion" {
		t.Errorf("stages = %v", got)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-customers", "-5"}, "-customers -5: must be from 1 to 100000"},
		{[]string{"-customers", "0"}, "-customers 0: must be from 1 to 100000"},
		{[]string{"-customers", "100001"}, "-customers 100001: must be from 1 to 100000"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

package errs

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

var errSentinel = New(InvalidArgument, "table: ragged row")

func TestCodeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, Unknown},
		{"plain", errors.New("disk on fire"), Unknown},
		{"sentinel", errSentinel, InvalidArgument},
		{"wrapped sentinel", fmt.Errorf("read dataset: %w", fmt.Errorf("%w: row 3", errSentinel)), InvalidArgument},
		// The outermost code wins: a caller may reclassify.
		{"reclassified", Wrap(Internal, fmt.Errorf("stored model: %w", errSentinel)), Internal},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), Canceled},
		{"deadline", context.DeadlineExceeded, DeadlineExceeded},
		{"joined", errors.Join(errors.New("a"), Errorf(NotFound, "dataset %s", "ds_1")), NotFound},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.want {
			t.Errorf("%s: CodeOf(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", errSentinel), errSentinel) {
		t.Error("a coded sentinel no longer matches errors.Is")
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for c := Unknown; c <= TooLarge; c++ {
		want := c == Unknown || c == Unavailable || c == DeadlineExceeded
		if got := Retryable(Wrap(c, errors.New("x"))); got != want {
			t.Errorf("Retryable(%v) = %v, want %v", c, got, want)
		}
		if Parse(c.String()) != c {
			t.Errorf("Parse(%q) != %v", c.String(), c)
		}
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	inner := Public(InvalidArgument, "column %q in rule 2 is not in the dataset (columns: age, sex)", "agee")
	err := fmt.Errorf("pipeline.Generate: tenants/acme/jobs/job_1/train.csv: %w", inner)
	if got, want := Message(err), `column "agee" in rule 2 is not in the dataset (columns: age, sex)`; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	plain := errors.New("something broke")
	if Message(plain) != "something broke" {
		t.Errorf("Message(plain) = %q", Message(plain))
	}
	joined := errors.Join(errors.New("first"), inner)
	if Message(joined) != inner.Error() {
		t.Errorf("Message(joined) = %q", Message(joined))
	}
}

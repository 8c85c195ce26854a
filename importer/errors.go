package importer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zentra/zentra-import/mapping"
)

// Kind says what a run-level error means to the person or script that started the run; package main
// turns it into the exit code (SPEC: 2 usage/input, 3 aborted, 130 interrupted).
type Kind int

const (
	// KindInput: a usage, mapping, input or job-directory problem found before anything was sent.
	KindInput Kind = iota + 1
	// KindAborted: the API refused the key or the tenant, every request failed, the API gave no answer
	// for RunOptions.MaxOutage, or the journal could not be written. The job is resumable.
	KindAborted
	// KindInterrupted: a signal stopped the run. The job is resumable.
	KindInterrupted
)

// Error is a run-level failure with a hint that says how to fix it.
type Error struct {
	Kind Kind
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a run error; errors without one are input errors (nothing was sent).
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInput
}

// HintOf returns the hint carried by err, if any.
func HintOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Hint != "" {
		return e.Hint
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

func inputError(hint string, format string, args ...any) error {
	return &Error{Kind: KindInput, Err: fmt.Errorf(format, args...), Hint: hint}
}

func wrapInput(err error, hint string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var list mapping.MappingErrors
	if errors.As(err, &list) {
		switch {
		case len(list) == 1 && list[0].Hint != "":
			hint = list[0].Hint
		case len(list) > 1:
			// One problem a line, each followed by its own hint.
			var b strings.Builder
			fmt.Fprintf(&b, "the mapping has %d problems:", len(list))
			for _, p := range list {
				fmt.Fprintf(&b, "\n  %s", p.Error())
				if p.Hint != "" {
					fmt.Fprintf(&b, "\n    hint: %s", p.Hint)
				}
			}
			err = errors.New(b.String())
		}
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		hint = h.Hint()
	}
	return &Error{Kind: KindInput, Err: err, Hint: hint}
}

// ErrInterrupted is returned when a signal stopped the run.
var ErrInterrupted = errors.New("interrupted")

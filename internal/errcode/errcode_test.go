package errcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestClassify(t *testing.T) {
	notFound := New(RoomNotFound, "room does not exist")
	for _, c := range []struct {
		err      error
		fam      Family
		code     int
		info     string
		internal bool
	}{
		{nil, Live, OK, "", false},
		{fmt.Errorf("%w: r1", notFound), Account, RoomNotFound, "room does not exist: r1", false},
		{Invalid("RoomId", "is longer than %d bytes", 48), Live, LiveInvalid, "invalid parameter: RoomId is longer than 48 bytes", false},
		{Invalid("", "the account list is empty"), Account, AccountInvalid, "invalid parameter: the account list is empty", false},
		{InvalidBare("State", "must be dead or delivered"), Live, LiveInvalid, "State must be dead or delivered", false},
		{fmt.Errorf("%w: 7", InvalidBare("", "event does not exist")), Live, LiveInvalid, "event does not exist: 7", false},
		{errors.New("disk on fire"), Account, AccountInternal, InternalInfo, true},
	} {
		code, info, internal := Classify(c.err, c.fam)
		if code != c.code || info != c.info || internal != c.internal {
			t.Errorf("%v: got %d %q %v, want %d %q %v", c.err, code, info, internal, c.code, c.info, c.internal)
		}
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", Invalid("X", "bad")), ErrInvalid) {
		t.Error("a wrapped *InvalidError does not match ErrInvalid")
	}
	if sentinel := InvalidBare("", "event does not exist"); errors.Is(Invalid("", "event does not exist"), sentinel) {
		t.Error("two *InvalidErrors with the same text match each other")
	}
}

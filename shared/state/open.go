package state

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"cloud.google.com/go/firestore"
)

// Open opens the store named by rawURL:
//
//	bolt:///abs/path/state.db          embedded file, absolute path
//	bolt://./rel/path/state.db         embedded file, relative to the working directory
//	/abs/path or ./rel/path            embedded file (no scheme)
//	firestore://PROJECT                Firestore, default database
//	firestore://PROJECT?database=NAME  Firestore, named database
//	firestore://                       Firestore, project detected from the environment
//
// Both drivers are compiled into this package, so Open needs no driver registration.
func Open(ctx context.Context, rawURL string) (Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return OpenBolt(rawURL)
	}
	switch scheme {
	case "bolt":
		// "bolt:///abs" leaves "/abs"; "bolt://./rel" leaves "./rel".
		if rest == "" {
			return nil, fmt.Errorf("state: open %q: %w: no path", rawURL, ErrInvalid)
		}
		return OpenBolt(rest)
	case "firestore":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("state: open %q: %w: %w", rawURL, ErrInvalid, err)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("state: open %q: %w: unexpected path %q", rawURL, ErrInvalid, u.Path)
		}
		project := u.Host
		if project == "" {
			project = firestore.DetectProjectID
		}
		return OpenFirestore(ctx, project, u.Query().Get("database"))
	}
	return nil, fmt.Errorf("state: open %q: %w: unknown scheme %q (want bolt or firestore)", rawURL, ErrInvalid, scheme)
}

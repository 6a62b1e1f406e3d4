package secrets

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// managerSource reads secrets from Google Cloud Secret Manager.
type managerSource struct {
	client  *secretmanager.Client
	project string
}

// Manager returns a Source that reads secrets from Google Cloud Secret
// Manager in project. Secret NAME is read at its latest version,
// projects/PROJECT/secrets/NAME/versions/latest; a name that is already a
// resource name, projects/P/secrets/S or projects/P/secrets/S/versions/V, is
// used as given (at version latest when none is named), which pins a version
// or reads from another project. Payloads that carry a CRC32C are verified;
// an empty payload is ErrNotFound, as an empty file or variable is for Dir and
// Env.
//
// opts go to the client; by default it uses Application Default Credentials.
// Tests point it at an in-process server with option.WithEndpoint.
func Manager(ctx context.Context, project string, opts ...option.ClientOption) (Source, error) {
	if project == "" || strings.Contains(project, "/") {
		return nil, fmt.Errorf("secrets.Manager: invalid project %q", project)
	}
	c, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets.Manager: %w", err)
	}
	return &managerSource{client: c, project: project}, nil
}

// resource returns the secret version resource name for name.
func (s *managerSource) resource(name string) (string, error) {
	if !strings.HasPrefix(name, "projects/") {
		if err := checkName(name); err != nil {
			return "", err
		}
		return "projects/" + s.project + "/secrets/" + name + "/versions/latest", nil
	}
	// projects/P/secrets/S[/versions/V]
	parts := strings.Split(name, "/")
	valid := (len(parts) == 4 || len(parts) == 6) && parts[1] != "" &&
		parts[2] == "secrets" && checkName(parts[3]) == nil
	if valid && len(parts) == 6 {
		valid = parts[4] == "versions" && checkName(parts[5]) == nil
	}
	if !valid {
		return "", fmt.Errorf("secrets: %q: %w (want NAME or projects/P/secrets/S[/versions/V])", name, ErrInvalidName)
	}
	if len(parts) == 4 {
		return name + "/versions/latest", nil
	}
	return name, nil
}

func (s *managerSource) Get(ctx context.Context, name string) ([]byte, error) {
	res, err := s.resource(name)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: res})
	if status.Code(err) == codes.NotFound {
		return nil, fmt.Errorf("secrets: %q: %w: %w", name, ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %q: %w", name, err)
	}
	p := resp.GetPayload()
	if want := p.DataCrc32C; want != nil {
		if got := int64(crc32.Checksum(p.GetData(), crc32.MakeTable(crc32.Castagnoli))); got != *want {
			return nil, fmt.Errorf("secrets: %q: %w: CRC32C %d, payload says %d", name, ErrCorrupt, got, *want)
		}
	}
	if len(p.GetData()) == 0 {
		// As for the other drivers, an empty secret is a mistake, not a value.
		return nil, fmt.Errorf("secrets: %q: %w: the payload is empty", name, ErrNotFound)
	}
	return p.GetData(), nil
}

func (s *managerSource) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("secrets: close: %w", err)
	}
	return nil
}

package pipeline

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/jobs"
)

// deliver copies a released job's outputs (data, reports, model) to the
// destinations its route names, streaming each object so memory stays flat,
// and returns where each one now lives. The router retries the primary and
// fails over to the secondary; a delivery that reaches neither is an error
// the step's retries take up (every copy is an idempotent overwrite). A job
// routed to the platform bucket only (the default) needs no copy.
func (p *Pipeline) deliver(ctx context.Context, j *jobs.Job, outputs map[string]string) (map[string]destinations.Location, error) {
	rt := j.Route
	if rt.Primary == destinations.Platform && (!rt.HasSecondary || rt.Secondary == destinations.Platform) {
		return nil, nil
	}
	if p.env.Destinations == nil {
		return nil, permanent("job %s is routed to storage destinations, but this deployment has no destination router (no keyring to open their credentials)", j.ID)
	}
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	locs := make(map[string]destinations.Location, len(names))
	for _, name := range names {
		src := outputs[name]
		// Keys in the tenant's bucket drop the platform's tenant prefix:
		// the bucket is theirs.
		dst := path.Join("synthos", "jobs", j.ID, path.Base(src))
		loc, err := p.deliverOne(ctx, j, rt, dst, src)
		if err != nil {
			return nil, fmt.Errorf("deliver %s of job %s: %w", name, j.ID, err)
		}
		locs[name] = loc
	}
	return locs, nil
}

// deliverOne copies src to dst on the route as plaintext: the destination
// is the customer's own storage, under their own protection, and they must
// be able to read what lands there. Outputs the platform bucket seals at
// rest (keyring.Outputs) read as plaintext already; the model, which its
// writer seals, is revealed here.
func (p *Pipeline) deliverOne(ctx context.Context, j *jobs.Job, rt destinations.Route, dst, src string) (destinations.Location, error) {
	ring, err := p.ring(ctx)
	if err != nil {
		return destinations.Location{}, err
	}
	attrs, err := p.env.Objects.Attributes(ctx, src)
	if err != nil {
		return destinations.Location{}, fmt.Errorf("deliver %s: %w", src, err)
	}
	return p.env.Destinations.Put(ctx, j.Tenant, rt, dst, func(w io.Writer) error {
		rd, err := p.env.Objects.NewReader(ctx, src, nil)
		if err != nil {
			return err
		}
		defer rd.Close()
		plain, err := ring.ObjectReader(ctx, j.Tenant, rd)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, plain)
		return err
	}, &blob.WriterOptions{ContentType: attrs.ContentType})
}

package edge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/ipfilter"
	"synthos.dev/synthos/shared/ratelimit"
	"synthos.dev/synthos/shared/secrules"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/waf"
)

// Deps are what FromConfig needs from the function's environment.
type Deps struct {
	State  state.Store      // tenants' IP rules (nil: none)
	Events events.Publisher // audit records of security events (nil: none)
	Plans  PlanSource       // nil: the configured defaults for everyone
	Logger *slog.Logger
	// Counter counts security events (nil: a MemCounter).
	Counter Counter
	// Rules replaces the configured security rules (tests).
	Rules []secrules.Rule
	// RedisPrefix replaces the key prefix in Redis (tests sharing one).
	RedisPrefix string
}

// redisPrefix namespaces every key the edge keeps in Redis.
const redisPrefix = "synthos:edge:"

// Process-wide singletons: the local runner hosts the API and the billing
// function in one process, and both share one Redis pool and one compiled
// Core Rule Set (a second or so and tens of MB each). In-process counters
// and bans belong to each Guard, as each function's instances keep their
// own in the cloud.
var (
	sharedMu    sync.Mutex
	redisByURL  = map[string]*redis.Client{}
	wafByConfig = map[string]*waf.WAF{}
)

func sharedRedis(ctx context.Context, url string) (*redis.Client, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if c := redisByURL[url]; c != nil {
		return c, nil
	}
	c, err := ratelimit.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	redisByURL[url] = c
	return c, nil
}

func sharedWAF(o waf.Options) (*waf.WAF, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	k := fmt.Sprintf("%s/%d/%d/%d", o.Mode, o.Paranoia, o.Threshold, o.BodyLimit)
	if w := wafByConfig[k]; w != nil {
		return w, nil
	}
	w, err := waf.New(o)
	if err != nil {
		return nil, err
	}
	wafByConfig[k] = w
	return w, nil
}

// FromConfig builds the Guard the configuration describes.
func FromConfig(ctx context.Context, c *config.Config, d Deps) (*Guard, error) {
	if c == nil {
		var err error
		if c, err = config.LoadMap(ctx, nil); err != nil {
			return nil, err
		}
	}
	o := Options{TrustedProxies: c.TrustedProxies, Limits: DefaultLimits, Logger: d.Logger, Plans: d.Plans,
		ScoreThreshold: 10}
	var err error
	if o.Platform.Allow, err = ipfilter.ParseList(c.IPAllow); err != nil {
		return nil, fmt.Errorf("edge: SYNTHOS_IP_ALLOW: %w", err)
	}
	if o.Platform.Deny, err = ipfilter.ParseList(c.IPDeny); err != nil {
		return nil, fmt.Errorf("edge: SYNTHOS_IP_DENY: %w", err)
	}
	policy := ipfilter.BanPolicy{Base: c.BanBase, Max: c.BanMax, Memory: max(24*time.Hour, c.BanMax)}
	if c.RedisURL != "" {
		rc, err := sharedRedis(ctx, c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
		prefix := redisPrefix
		if d.RedisPrefix != "" {
			prefix = d.RedisPrefix
		}
		o.Limiter = ratelimit.NewRedis(rc, prefix+"rate:")
		o.Bans = ipfilter.NewRedisBans(rc, prefix+"bans:", policy)
	} else {
		o.Limiter = ratelimit.NewMemory(nil)
		o.Bans = ipfilter.NewMemoryBans(policy, nil)
	}
	mode, err := waf.ParseMode(c.WAFMode)
	if err != nil {
		return nil, fmt.Errorf("edge: SYNTHOS_WAF_MODE: %w", err)
	}
	if mode != waf.Off {
		if o.WAF, err = sharedWAF(waf.Options{Mode: mode, Paranoia: c.WAFParanoia, Threshold: c.WAFThreshold}); err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
	}
	rules := secrules.DefaultRules()
	switch {
	case d.Rules != nil:
		rules = d.Rules
	case c.SecurityRulesFile != "":
		b, err := os.ReadFile(c.SecurityRulesFile)
		if err != nil {
			return nil, fmt.Errorf("edge: SYNTHOS_SECURITY_RULES_FILE: %w", err)
		}
		if rules, err = secrules.Parse(b); err != nil {
			return nil, fmt.Errorf("edge: SYNTHOS_SECURITY_RULES_FILE %s: %w", c.SecurityRulesFile, err)
		}
	}
	if o.Rules, err = secrules.New(rules, o.Limiter); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	perMinute := func(n, burst int) ratelimit.Limit {
		if n <= 0 {
			return ratelimit.Limit{}
		}
		return ratelimit.PerMinute(n, max(1, burst))
	}
	o.IPLimit = perMinute(c.RateIPPerMinute, c.RateIPBurst)
	o.DefaultKey = perMinute(c.RateKeyPerMinute, c.RateKeyBurst)
	o.DefaultTenant = perMinute(c.RateTenantPerMinute, 2*c.RateKeyBurst)
	o.AuthFailLimit = perMinute(c.AuthFailuresPerMinute, c.AuthFailuresPerMinute)
	o.WAFBlockLimit = ratelimit.Limit{Rate: 5, Period: 10 * time.Minute, Burst: 5}
	if d.State != nil {
		o.Tenants = ipfilter.NewTenantStore(d.State, 10*time.Second)
	}
	counter := d.Counter
	if counter == nil {
		counter = &MemCounter{}
	}
	o.Sink = AuditSink{Pub: d.Events, Counter: counter}
	return New(o)
}

// Tenants returns the store of tenants' IP rules (nil when none).
func (g *Guard) Tenants() *ipfilter.TenantStore { return g.o.Tenants }

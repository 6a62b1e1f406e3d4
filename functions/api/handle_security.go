package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/edge"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/ipfilter"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/web"
)

// getIPRules answers the tenant's IP allow and deny lists.
func (s *server) getIPRules(w http.ResponseWriter, r *http.Request) {
	store := s.edge.Tenants()
	if store == nil {
		web.WriteError(w, http.StatusNotImplemented, "not_configured", "tenant IP rules are not configured on this deployment", nil)
		return
	}
	t, err := store.Get(r.Context(), principal(r).Tenant)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, t)
}

// putIPRules replaces the tenant's IP lists, audited with the old and new
// lists. The caller's own address must stay admitted, so an admin cannot
// lock the organisation out by mistake.
func (s *server) putIPRules(w http.ResponseWriter, r *http.Request) {
	store := s.edge.Tenants()
	if store == nil {
		web.WriteError(w, http.StatusNotImplemented, "not_configured", "tenant IP rules are not configured on this deployment", nil)
		return
	}
	var in struct {
		Allow []string `json:"allow"`
		Deny  []string `json:"deny"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		web.WriteError(w, http.StatusBadRequest, "invalid_request", `the body must be {"allow":["CIDR",...],"deny":["CIDR",...]}: `+err.Error(), nil)
		return
	}
	p := principal(r)
	next := ipfilter.TenantRules{Allow: in.Allow, Deny: in.Deny, UpdatedBy: "key:" + p.KeyID}
	rules, err := next.Parse()
	if err != nil {
		web.WriteError(w, http.StatusBadRequest, "invalid_request", errs.Message(err), nil)
		return
	}
	if ip := edge.ClientAddr(r.Context()); ip.IsValid() && rules.Check(ip) != ipfilter.Admitted {
		web.WriteError(w, http.StatusConflict, "would_lock_out",
			"these rules would refuse your own address ("+ip.String()+"): include it in allow, or send the change from an address that stays allowed", nil)
		return
	}
	ctx := r.Context()
	old, err := store.Get(ctx, p.Tenant)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	saved, err := store.Put(ctx, p.Tenant, next)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	if err := audit.Emit(ctx, s.svc.Pub, audit.Event{Tenant: p.Tenant, Actor: "key:" + p.KeyID, Action: "security.ip_rules.updated",
		Resource: "ip-rules", Outcome: "success", Details: map[string]string{
			"old_allow": strings.Join(old.Allow, ","), "old_deny": strings.Join(old.Deny, ","),
			"allow": strings.Join(saved.Allow, ","), "deny": strings.Join(saved.Deny, ","),
		}}); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "audit emit", "action", "security.ip_rules.updated", "error", err)
	}
	web.WriteJSON(w, http.StatusOK, saved)
}

package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// update is GET /updates/{update_id}'s answer, as far as the table shows it.
type update struct {
	UpdateID   text              `json:"update_id"`
	CustomerID text              `json:"customer_id"`
	Caller     text              `json:"caller"`
	ReceivedAt text              `json:"received_at"`
	Outcome    text              `json:"outcome"`
	Results    map[string]result `json:"results"`
}

// result is one vendor's line of an update.
type result struct {
	Status      text         `json:"status"`
	Attempts    text         `json:"attempts"`
	QueuedUntil text         `json:"queued_until"`
	DeliveredAt text         `json:"delivered_at"`
	Reason      text         `json:"reason"`
	Error       *vendorError `json:"error"`
}

// runUpdatesGet is `gateway updates get ID`.
func runUpdatesGet(ctx context.Context, inv *invocation, stdout io.Writer) error {
	a, err := inv.client.do(ctx, http.MethodGet, "/updates/"+url.PathEscape(inv.id), nil)
	if err != nil {
		return jsonProblem(inv, stdout, err)
	}
	if inv.json {
		return printJSON(stdout, a.body)
	}
	var u update
	if err := decode(a, &u); err != nil {
		return err
	}
	printUpdate(stdout, u)
	return nil
}

// printUpdate writes the update's header line, then one row per vendor in name order.
func printUpdate(w io.Writer, u update) {
	fmt.Fprintf(w, "update %s  customer %s  caller %s  received %s  outcome %s\n",
		cell(u.UpdateID), cell(u.CustomerID), cell(u.Caller), when(u.ReceivedAt), cell(u.Outcome))
	if len(u.Results) == 0 {
		return
	}
	fmt.Fprintln(w)
	vendors := make([]string, 0, len(u.Results))
	for v := range u.Results {
		vendors = append(vendors, v)
	}
	slices.Sort(vendors)
	tw := newTable(w)
	row(tw, "VENDOR", "STATUS", "ATTEMPTS", "DELIVERED/QUEUED-UNTIL", "ERROR")
	for _, v := range vendors {
		r := u.Results[v]
		at := r.DeliveredAt
		if at == "" {
			at = r.QueuedUntil
		}
		attempts := r.Attempts
		if attempts == "" {
			attempts = "0" // the server leaves out a zero
		}
		row(tw, cell(v), cell(r.Status), cell(attempts), when(at), cell(joinErrors(string(r.Reason), r.Error.String())))
	}
	tw.Flush()
}

// joinErrors is the ERROR cell: a reason and a vendor's error, whichever there are.
func joinErrors(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "; ")
}

// jsonProblem passes err on, first printing a problem's body on stdout under --json, so a
// script reads the gateway's answer whatever it was.
func jsonProblem(inv *invocation, stdout io.Writer, err error) error {
	if pe, ok := err.(*problemError); ok && inv.json && len(pe.body) > 0 {
		// A body that is not JSON (a proxy's page) is only described on stderr.
		_ = printJSON(stdout, pe.body)
	}
	return err
}

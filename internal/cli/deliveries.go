package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// delivery is one delivery as GET /deliveries lists it and retry and cancel answer it.
type delivery struct {
	DeliveryID  text         `json:"delivery_id"`
	UpdateID    text         `json:"update_id"`
	CustomerID  text         `json:"customer_id"`
	Vendor      text         `json:"vendor"`
	Status      text         `json:"status"`
	Attempts    text         `json:"attempts"`
	QueuedAt    text         `json:"queued_at"`
	QueuedUntil text         `json:"queued_until"`
	EndedAt     text         `json:"ended_at"`
	Reason      text         `json:"reason"`
	Error       *vendorError `json:"error"`
}

// deliveryPage is GET /deliveries's answer.
type deliveryPage struct {
	Deliveries []delivery `json:"deliveries"`
	NextCursor text       `json:"next_cursor"`
}

// runDeliveriesList is `gateway deliveries list`.
func runDeliveriesList(ctx context.Context, inv *invocation, stdout io.Writer) error {
	f := inv.filters
	q := url.Values{}
	for name, v := range map[string]string{"status": f.status, "vendor": f.vendor, "customer_id": f.customer, "cursor": f.cursor} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if f.limit > 0 {
		q.Set("limit", strconv.Itoa(f.limit))
	}
	a, err := inv.client.do(ctx, http.MethodGet, "/deliveries", q)
	if err != nil {
		return jsonProblem(inv, stdout, err)
	}
	if inv.json {
		return printJSON(stdout, a.body)
	}
	var page deliveryPage
	if err := decode(a, &page); err != nil {
		return err
	}
	if len(page.Deliveries) == 0 {
		fmt.Fprintln(stdout, "no deliveries")
	} else {
		printDeliveries(stdout, page.Deliveries)
	}
	if page.NextCursor != "" {
		fmt.Fprintln(stdout, "next:", nextCommand(inv, sanitize(string(page.NextCursor))))
	}
	return nil
}

// nextCommand is the command line that lists the next page: the same filters, the new cursor.
func nextCommand(inv *invocation, cursor string) string {
	args := []string{"gateway", "deliveries", "list"}
	f := inv.filters
	for _, fl := range [][2]string{{"--status", f.status}, {"--vendor", f.vendor}, {"--customer", f.customer}, {"--url", inv.urlFlag}} {
		if fl[1] != "" {
			args = append(args, fl[0], shellQuote(sanitize(fl[1])))
		}
	}
	if f.limit > 0 {
		args = append(args, "--limit", strconv.Itoa(f.limit))
	}
	args = append(args, "--cursor", shellQuote(cursor))
	return strings.Join(args, " ")
}

// runDeliveriesRetry is `gateway deliveries retry ID`: send an ended delivery again.
func runDeliveriesRetry(ctx context.Context, inv *invocation, stdout io.Writer) error {
	return deliveryAction(ctx, inv, stdout, http.MethodPost, "/deliveries/"+url.PathEscape(inv.id)+"/retry")
}

// runDeliveriesCancel is `gateway deliveries cancel ID`: give up a waiting delivery.
func runDeliveriesCancel(ctx context.Context, inv *invocation, stdout io.Writer) error {
	return deliveryAction(ctx, inv, stdout, http.MethodDelete, "/deliveries/"+url.PathEscape(inv.id))
}

// deliveryAction sends one action on a delivery and prints the delivery it answers with.
func deliveryAction(ctx context.Context, inv *invocation, stdout io.Writer, method, path string) error {
	a, err := inv.client.do(ctx, method, path, nil)
	if err != nil {
		return jsonProblem(inv, stdout, err)
	}
	if inv.json {
		return printJSON(stdout, a.body)
	}
	var d delivery
	if err := decode(a, &d); err != nil {
		return err
	}
	printDeliveries(stdout, []delivery{d})
	return nil
}

// printDeliveries writes deliveries as a table, in the server's order (newest first).
func printDeliveries(w io.Writer, ds []delivery) {
	tw := newTable(w)
	row(tw, "DELIVERY", "STATUS", "VENDOR", "CUSTOMER", "ATTEMPTS", "QUEUED-UNTIL", "ERROR")
	for _, d := range ds {
		attempts := d.Attempts
		if attempts == "" {
			attempts = "0"
		}
		row(tw, cell(d.DeliveryID), cell(d.Status), cell(d.Vendor), cell(d.CustomerID), cell(attempts),
			when(d.QueuedUntil), cell(joinErrors(string(d.Reason), d.Error.String())))
	}
	tw.Flush()
}

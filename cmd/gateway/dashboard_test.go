package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The files of deploy/ the compose file mounts, and what the tests read of them.
const (
	prometheusConfig = "deploy/prometheus/prometheus.yml"
	alertRules       = "deploy/prometheus/alerts.yml"
	dashboardFile    = "deploy/grafana/dashboards/gateway.json"
	datasourcesFile  = "deploy/grafana/provisioning/datasources/datasources.yml"
	dashboardsFile   = "deploy/grafana/provisioning/dashboards/dashboards.yml"
)

// series is what one scrape exports: each sample name (a histogram's _bucket, _sum and
// _count apart), its label names, and the values each took.
type series map[string]map[string]map[string]bool

// targetLabels are the labels Prometheus adds to every series it scrapes, and up is the
// series it makes of each scrape: none of them is the gateway's to export.
var targetLabels = []string{"job", "instance"}

func (s series) add(name string, labels []*dto.LabelPair, extra ...string) {
	if s[name] == nil {
		s[name] = map[string]map[string]bool{}
	}
	for _, l := range labels {
		if s[name][l.GetName()] == nil {
			s[name][l.GetName()] = map[string]bool{}
		}
		s[name][l.GetName()][l.GetValue()] = true
	}
	for _, l := range append(extra, targetLabels...) {
		if s[name][l] == nil {
			s[name][l] = map[string]bool{}
		}
	}
}

// scrapeSeries reads /metrics in the Prometheus text format, as Prometheus would.
func scrapeSeries(t *testing.T, g inProcess) (series, map[string]*dto.MetricFamily) {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	parser := expfmt.NewTextParser(prommodel.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	s := series{}
	s.add("up", nil)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				s.add(name+"_bucket", m.GetLabel(), "le")
				s.add(name+"_sum", m.GetLabel())
				s.add(name+"_count", m.GetLabel())
			case dto.MetricType_SUMMARY:
				s.add(name, m.GetLabel(), "quantile")
				s.add(name+"_sum", m.GetLabel())
				s.add(name+"_count", m.GetLabel())
			default:
				s.add(name, m.GetLabel())
			}
		}
	}
	return s, families
}

var (
	// selectorRE is a metric of the gateway's (its own, the Go runtime's, the process's, or
	// Prometheus' up) and its label matchers, in a PromQL expression.
	selectorRE = regexp.MustCompile(`\b((?:gateway|go|process)_[a-zA-Z0-9_]+|up)\b\s*(?:\{([^}]*)\})?`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	groupingRE = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	// labelValuesRE is a Grafana variable's query label_values(metric, label).
	labelValuesRE = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)`)
)

// checkExpr wants every metric expr names to be in s with every label it matches or groups
// by, and each value it matches exactly to be one s has: a dashboard panel or an alert on
// a metric, label or value the gateway does not export would be empty, or never fire.
func checkExpr(t *testing.T, s series, where, expr string) {
	t.Helper()
	selectors := selectorRE.FindAllStringSubmatch(expr, -1)
	if len(selectors) == 0 {
		t.Errorf("%s: %q uses no metric of the gateway's", where, expr)
		return
	}
	labels := map[string]bool{}
	for _, sel := range selectors {
		name, matchers := sel[1], sel[2]
		known, ok := s[name]
		if !ok {
			t.Errorf("%s: %s is not in what the gateway exports (%q)", where, name, expr)
			continue
		}
		for l := range known {
			labels[l] = true
		}
		for _, m := range matcherRE.FindAllStringSubmatch(matchers, -1) {
			label, op, value := m[1], m[2], m[3]
			values, ok := known[label]
			switch {
			case !ok:
				t.Errorf("%s: %s has no label %s (%q)", where, name, label, expr)
			case op == "=" && !slices.Contains(targetLabels, label) && !values[value]:
				t.Errorf("%s: %s{%s} is never %q; it takes %v (%q)", where, name, label, value, slices.Sorted(maps.Keys(values)), expr)
			}
		}
	}
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !labels[l] {
				t.Errorf("%s: grouped by %s, a label none of its metrics has (%q)", where, l, expr)
			}
		}
	}
}

// exprs collects every "expr" (a panel's query) and every templating query of the JSON
// document v, by where it is.
func exprs(v any, where string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || (k == "query" && strings.Contains(s, "label_values("))) {
				out[where+"."+k] = s
				continue
			}
			exprs(x, where+"."+k, out)
		}
	case []any:
		for i, x := range v {
			title := ""
			if m, ok := x.(map[string]any); ok {
				title, _ = m["title"].(string)
			}
			exprs(x, fmt.Sprintf("%s[%d %s]", where, i, title), out)
		}
	}
}

// ruleFile is a Prometheus rule file.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestDashboardAndAlertsUseExportedMetrics scrapes the real gateway, run in-process against
// its simulator after one update delivered and one queued, and wants every metric, label
// and value the dashboard and the alert rules use to be in what it exports; and the
// per-vendor queue and breaker metrics to say what happened.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	t.Parallel()
	g := startInProcess(t, map[string]string{
		// LadiFlow's one failure opens its breaker; its queued delivery waits an hour.
		"GATEWAY_RETRY_ATTEMPTS": "1", "GATEWAY_BREAKER_FAILURES": "1", "GATEWAY_BREAKER_COOLDOWN": "1h",
		"GATEWAY_QUEUE_BACKOFF": "1h", "GATEWAY_QUEUE_MAX_BACKOFF": "1h",
	}, "--sandbox")
	ex := readmeFirstExample(t)
	if status, _, body := g.do(t, http.MethodPut, ex.path, ex.body); status != http.StatusOK {
		t.Fatalf("README example: %d %s", status, body)
	}
	fault(t, g, "ladiflow", `{"mode":"http500","count":-1}`)
	status, _, reply := g.do(t, http.MethodPut, "/customers/c-metrics-1", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf-1"}},"vendors":["ladiflow"]}`)
	if res := result(t, status, reply, http.StatusAccepted); res.Results["ladiflow"].Status != "queued" {
		t.Fatalf("want LadiFlow queued: %s", reply)
	}
	s, families := scrapeSeries(t, g)

	t.Run("alert rules", func(t *testing.T) {
		var rules ruleFile
		if err := yaml.Unmarshal([]byte(readRepoFile(t, alertRules)), &rules); err != nil {
			t.Fatalf("%s: %v", alertRules, err)
		}
		var alerts []string
		for _, grp := range rules.Groups {
			for _, r := range grp.Rules {
				alerts = append(alerts, r.Alert)
				checkExpr(t, s, alertRules+" "+r.Alert, r.Expr)
			}
		}
		for _, want := range []string{"GatewayVendorErrorRate", "GatewayVendorBreakerOpen", "GatewayQueueOldestDelivery", "GatewayWebhookFailures"} {
			if !slices.Contains(alerts, want) {
				t.Errorf("%s has no alert %s (it has %q)", alertRules, want, alerts)
			}
		}
	})
	t.Run("dashboard", func(t *testing.T) {
		var doc any
		if err := json.Unmarshal([]byte(readRepoFile(t, dashboardFile)), &doc); err != nil {
			t.Fatalf("%s: %v", dashboardFile, err)
		}
		queries := map[string]string{}
		exprs(doc, "dashboard", queries)
		if len(queries) < 10 {
			t.Fatalf("%s: %d queries found, want its every panel's: %v", dashboardFile, len(queries), queries)
		}
		for where, q := range queries {
			if m := labelValuesRE.FindStringSubmatch(q); m != nil {
				if _, ok := s[m[1]][m[2]]; !ok {
					t.Errorf("%s: %s has no label %s in what the gateway exports", where, m[1], m[2])
				}
				continue
			}
			checkExpr(t, s, where, q)
		}
	})
	t.Run("queue and breakers", func(t *testing.T) {
		value := func(name string, labels map[string]string) (float64, bool) {
			for _, m := range families[name].GetMetric() {
				got := map[string]string{}
				for _, l := range m.GetLabel() {
					got[l.GetName()] = l.GetValue()
				}
				if maps.Equal(got, labels) {
					return m.GetGauge().GetValue(), true
				}
			}
			return 0, false
		}
		tests := []struct {
			name   string
			labels map[string]string
			ok     func(float64) bool
			want   string
		}{
			{"gateway_queue_deliveries_waiting", map[string]string{"vendor": "ladiflow"}, func(v float64) bool { return v == 1 }, "1"},
			{"gateway_queue_deliveries_waiting", map[string]string{"vendor": "happytalk"}, func(v float64) bool { return v == 0 }, "0"},
			{"gateway_queue_oldest_delivery_age_seconds", map[string]string{"vendor": "ladiflow"}, func(v float64) bool { return v > 0 && v < 600 }, "its age, in seconds"},
			{"gateway_queue_oldest_delivery_age_seconds", map[string]string{"vendor": "engagelab"}, func(v float64) bool { return v == 0 }, "0"},
			{"gateway_vendor_circuit_breaker_state", map[string]string{"vendor": "ladiflow", "state": "open"}, func(v float64) bool { return v == 1 }, "1"},
			{"gateway_vendor_circuit_breaker_state", map[string]string{"vendor": "ladiflow", "state": "closed"}, func(v float64) bool { return v == 0 }, "0"},
			{"gateway_vendor_circuit_breaker_state", map[string]string{"vendor": "happytalk", "state": "closed"}, func(v float64) bool { return v == 1 }, "1"},
			{"gateway_webhook_deliveries_total", map[string]string{"result": "given_up"}, func(v float64) bool { return v == 0 }, "0"},
			// The SQLite file's two pools: its one writing connection, and the readers.
			{"go_sql_max_open_connections", map[string]string{"db_name": "writer"}, func(v float64) bool { return v == 1 }, "1"},
			{"go_sql_max_open_connections", map[string]string{"db_name": "readers"}, func(v float64) bool { return v == 4 }, "4"},
			{"go_sql_open_connections", map[string]string{"db_name": "writer"}, func(v float64) bool { return v == 1 }, "1, the update's writes went through it"},
		}
		for _, tt := range tests {
			v, ok := value(tt.name, tt.labels)
			if tt.name == "gateway_webhook_deliveries_total" {
				ok = false
				for _, m := range families[tt.name].GetMetric() {
					if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == tt.labels["result"] {
						v, ok = m.GetCounter().GetValue(), true
					}
				}
			}
			if !ok || !tt.ok(v) {
				t.Errorf("%s%v = %v (exported: %v), want %s", tt.name, tt.labels, v, ok, tt.want)
			}
		}
	})
	t.Run("no customer in a label", func(t *testing.T) {
		for name, labels := range s {
			for label, values := range labels {
				for v := range values {
					if strings.Contains(v, "c-42") || strings.Contains(v, "c-metrics") || strings.Contains(v, "example.com") {
						t.Errorf("%s{%s=%q} names a customer", name, label, v)
					}
				}
			}
		}
	})
}

// The local stack: Prometheus scrapes the compose gateway and loads the rules, Grafana is
// provisioned with Prometheus and the dashboard, the gateway sends its traces to Jaeger;
// every image is pinned and no two services publish one host port.
func TestComposeObservabilityStack(t *testing.T) {
	var f composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &f); err != nil {
		t.Fatal(err)
	}
	service := func(name string) composeService {
		t.Helper()
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("docker-compose.yml has no %s service", name)
		}
		return s
	}
	gateway, prom, grafana, jaeger := service("gateway"), service("prometheus"), service("grafana"), service("jaeger")

	t.Run("images pinned", func(t *testing.T) {
		for _, name := range []string{"prometheus", "grafana", "jaeger"} {
			image := f.Services[name].Image
			_, tag, ok := strings.Cut(image, ":")
			if !ok || tag == "latest" || !strings.ContainsAny(tag, "0123456789") {
				t.Errorf("%s: image %q is not pinned to a version", name, image)
			}
		}
	})
	t.Run("host ports", func(t *testing.T) {
		seen := map[string]string{}
		for name, s := range f.Services {
			for _, p := range s.Ports {
				parts := strings.Split(p, ":")
				if other, dup := seen[parts[0]]; dup {
					t.Errorf("%s and %s both publish host port %s", name, other, parts[0])
				}
				seen[parts[0]] = name
			}
		}
	})

	// mounted is the repository directory service mounts at dir, or "".
	mounted := func(s composeService, dir string) string {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == dir && strings.HasPrefix(parts[0], "./") {
				return strings.TrimPrefix(parts[0], "./")
			}
		}
		return ""
	}
	t.Run("prometheus", func(t *testing.T) {
		var config string
		for _, arg := range prom.Command {
			if v, ok := strings.CutPrefix(arg, "--config.file="); ok {
				config = v
			}
		}
		if dir := mounted(prom, path.Dir(config)); dir+"/"+path.Base(config) != prometheusConfig {
			t.Fatalf("prometheus reads %s, from the mount of %q; want %s", config, dir, prometheusConfig)
		}
		var cfg struct {
			RuleFiles     []string `yaml:"rule_files"`
			ScrapeConfigs []struct {
				JobName       string `yaml:"job_name"`
				MetricsPath   string `yaml:"metrics_path"`
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"scrape_configs"`
		}
		if err := yaml.Unmarshal([]byte(readRepoFile(t, prometheusConfig)), &cfg); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.RuleFiles, []string{path.Base(alertRules)}) {
			t.Errorf("rule_files %q, want %s beside the config", cfg.RuleFiles, path.Base(alertRules))
		}
		_, gwContainer := gateway.port(t)
		want := "gateway:" + gwContainer
		if len(cfg.ScrapeConfigs) != 1 || cfg.ScrapeConfigs[0].JobName != "gateway" || cfg.ScrapeConfigs[0].MetricsPath != "/metrics" ||
			len(cfg.ScrapeConfigs[0].StaticConfigs) != 1 || !slices.Equal(cfg.ScrapeConfigs[0].StaticConfigs[0].Targets, []string{want}) {
			t.Errorf("scrape_configs %+v, want job gateway scraping %s/metrics", cfg.ScrapeConfigs, want)
		}
	})
	t.Run("grafana", func(t *testing.T) {
		if got := mounted(grafana, "/etc/grafana/provisioning"); got != "deploy/grafana/provisioning" {
			t.Errorf("grafana's provisioning is mounted from %q, want deploy/grafana/provisioning", got)
		}
		var providers struct {
			Providers []struct {
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		if err := yaml.Unmarshal([]byte(readRepoFile(t, dashboardsFile)), &providers); err != nil {
			t.Fatal(err)
		}
		if len(providers.Providers) != 1 || mounted(grafana, providers.Providers[0].Options.Path) != path.Dir(dashboardFile) {
			t.Errorf("the dashboard provider reads %+v, which is not the mount of %s", providers.Providers, path.Dir(dashboardFile))
		}
		var sources struct {
			Datasources []struct {
				UID  string `yaml:"uid"`
				Type string `yaml:"type"`
				URL  string `yaml:"url"`
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal([]byte(readRepoFile(t, datasourcesFile)), &sources); err != nil {
			t.Fatal(err)
		}
		uids := map[string]string{}
		for _, d := range sources.Datasources {
			uids[d.UID] = d.URL
		}
		promPort := strings.Split(prom.Ports[0], ":")[1]
		// Every panel's and query's data source is the provisioned Prometheus.
		var doc any
		if err := json.Unmarshal([]byte(readRepoFile(t, dashboardFile)), &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(v any)
		n := 0
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if ds, ok := v["datasource"].(map[string]any); ok {
					n++
					if uid, _ := ds["uid"].(string); uids[uid] != "http://prometheus:"+promPort {
						t.Errorf("a dashboard data source %v is not the provisioned Prometheus at http://prometheus:%s (%v)", ds, promPort, uids)
					}
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(doc)
		if n == 0 {
			t.Error("the dashboard names no data source")
		}
	})
	t.Run("traces", func(t *testing.T) {
		if got := gateway.env("OTEL_EXPORTER_OTLP_ENDPOINT", ""); got != "http://jaeger:4318" {
			t.Errorf("the gateway sends traces to %q, want Jaeger's OTLP/HTTP receiver http://jaeger:4318", got)
		}
		if len(jaeger.Ports) == 0 {
			t.Error("jaeger publishes no port for its UI")
		}
	})
}

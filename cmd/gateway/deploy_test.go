package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/auth"
	engagelabsim "github.com/customergateway/gateway/internal/vendorsim/engagelab"
	happytalksim "github.com/customergateway/gateway/internal/vendorsim/happytalk"
	ladiflowsim "github.com/customergateway/gateway/internal/vendorsim/ladiflow"

	"go.yaml.in/yaml/v3"

	"github.com/customergateway/gateway/internal/config"
	"github.com/customergateway/gateway/internal/webhook"
)

// The deployment files live at the repository root; go test runs in cmd/gateway.
const repoRoot = "../.."

// vendorsimDefaultAddr is cmd/vendorsim's VENDORSIM_ADDR default (a main package cannot be
// imported); README.md documents the same port.
const vendorsimDefaultAddr = ":9090"

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// variables lists every variable the gateway reads: its own (config.Config), then each
// registered vendor's, in order.
func variables() []string {
	names := append(config.Variables(), config.Names(auth.Env{})...)
	names = append(names, config.Names(webhook.Env{})...)
	for _, p := range registered {
		names = append(names, config.Names(p.env)...)
	}
	return names
}

// configDefault is the default of one gateway variable, as config.Config or its vendor's
// Env declares it.
func configDefault(t *testing.T, name string) string {
	t.Helper()
	for _, spec := range append([]any{config.Config{}, auth.Env{}, webhook.Env{}}, envs()...) {
		if def, ok := config.Default(spec, name); ok {
			return def
		}
	}
	t.Fatalf("no configuration declares the variable %s", name)
	return ""
}

func envs() []any {
	var out []any
	for _, p := range registered {
		out = append(out, p.env)
	}
	return out
}

// portOf is the port of a listen address such as ":8080" or "0.0.0.0:8080".
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Volumes []string `yaml:"volumes"`
	Build   struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
		Target     string `yaml:"target"`
	} `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

// env is a variable as the container sees it: set in compose, else the given default.
func (s composeService) env(name, def string) string {
	if v, ok := s.Environment[name]; ok {
		return v
	}
	return def
}

// port splits the service's only "published:container" mapping.
func (s composeService) port(t *testing.T) (published, container string) {
	t.Helper()
	if len(s.Ports) != 1 {
		t.Fatalf("want one port mapping, got %q", s.Ports)
	}
	parts := strings.Split(strings.TrimSuffix(s.Ports[0], "/tcp"), ":")
	if len(parts) < 2 {
		t.Fatalf("port mapping %q publishes no host port", s.Ports[0])
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

func loadCompose(t *testing.T) (gateway, sim composeService) {
	t.Helper()
	var f composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	gateway, ok := f.Services["gateway"]
	if !ok {
		t.Fatal("docker-compose.yml has no gateway service")
	}
	sim, ok = f.Services["vendorsim"]
	if !ok {
		t.Fatal("docker-compose.yml has no vendorsim service")
	}
	return gateway, sim
}

// otelVariables are the standard OpenTelemetry variables the compose file sets, which
// internal/tracing/otlp reads (otlp.Setup), not internal/config.
var otelVariables = []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}

func TestComposeSetsOnlyVariablesTheGatewayReads(t *testing.T) {
	gateway, _ := loadCompose(t)
	known := append(variables(), otelVariables...)
	if len(gateway.Environment) == 0 {
		t.Fatal("the gateway service sets no environment")
	}
	for name := range gateway.Environment {
		if !slices.Contains(known, name) {
			t.Errorf("docker-compose.yml sets %s, which the gateway does not read", name)
		}
	}
}

func TestComposeWiresTheGatewayToTheSimulator(t *testing.T) {
	gateway, sim := loadCompose(t)
	simPort := portOf(t, sim.env("VENDORSIM_ADDR", vendorsimDefaultAddr))
	simURL := "http://vendorsim:" + simPort

	tests := []struct {
		name      string
		got, want string
	}{
		{"HAPPYTALK_BASE_URL", gateway.env("HAPPYTALK_BASE_URL", ""), simURL},
		{"LADIFLOW_BASE_URL", gateway.env("LADIFLOW_BASE_URL", ""), simURL},
		{"ENGAGELAB_BASE_URL", gateway.env("ENGAGELAB_BASE_URL", ""), simURL},
		{"HAPPYTALK_TOKEN", gateway.env("HAPPYTALK_TOKEN", ""), happytalksim.SandboxToken},
		{"LADIFLOW_API_KEY", gateway.env("LADIFLOW_API_KEY", ""), ladiflowsim.SandboxAPIKey},
		{"ENGAGELAB_API_KEY", gateway.env("ENGAGELAB_API_KEY", ""), engagelabsim.SandboxAPIKey},
		{"ENGAGELAB_API_SECRET", gateway.env("ENGAGELAB_API_SECRET", ""), engagelabsim.SandboxAPISecret},
		// The simulator's own credentials default to the sandbox ones; whatever compose sets
		// must still be what the gateway sends.
		{"VENDORSIM_HAPPYTALK_TOKEN", sim.env("VENDORSIM_HAPPYTALK_TOKEN", happytalksim.SandboxToken), gateway.env("HAPPYTALK_TOKEN", "")},
		{"VENDORSIM_LADIFLOW_API_KEY", sim.env("VENDORSIM_LADIFLOW_API_KEY", ladiflowsim.SandboxAPIKey), gateway.env("LADIFLOW_API_KEY", "")},
		{"VENDORSIM_ENGAGELAB_API_KEY", sim.env("VENDORSIM_ENGAGELAB_API_KEY", engagelabsim.SandboxAPIKey), gateway.env("ENGAGELAB_API_KEY", "")},
		{"VENDORSIM_ENGAGELAB_API_SECRET", sim.env("VENDORSIM_ENGAGELAB_API_SECRET", engagelabsim.SandboxAPISecret), gateway.env("ENGAGELAB_API_SECRET", "")},
		{"VENDORSIM_HAPPYTALK_GENDER_FORMAT", sim.env("VENDORSIM_HAPPYTALK_GENDER_FORMAT", happytalksim.GenderCode), gateway.env("HAPPYTALK_GENDER_FORMAT", configDefault(t, "HAPPYTALK_GENDER_FORMAT"))},
		// The README's examples send attributes.tier, as in --sandbox.
		{"HAPPYTALK_PARAMETER_MAP", gateway.env("HAPPYTALK_PARAMETER_MAP", ""), sandboxParameterMap},
		{"depends_on vendorsim", gateway.DependsOn["vendorsim"].Condition, "service_healthy"},
		{"vendorsim build target", sim.Build.Target, "vendorsim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestComposePorts(t *testing.T) {
	gateway, sim := loadCompose(t)
	gwPublished, gwContainer := gateway.port(t)
	simPublished, simContainer := sim.port(t)
	tests := []struct {
		name      string
		got, want string
	}{
		// README's curl examples call localhost:8080 and localhost:9090.
		{"gateway published", gwPublished, "8080"},
		{"gateway container", gwContainer, portOf(t, gateway.env("GATEWAY_ADDR", configDefault(t, "GATEWAY_ADDR")))},
		{"vendorsim published", simPublished, "9090"},
		{"vendorsim container", simContainer, portOf(t, sim.env("VENDORSIM_ADDR", vendorsimDefaultAddr))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestComposeHealthchecksAndShutdown(t *testing.T) {
	gateway, sim := loadCompose(t)
	simPort := portOf(t, sim.env("VENDORSIM_ADDR", vendorsimDefaultAddr))
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		// Distroless has no shell: CMD (exec form), never CMD-SHELL.
		{"gateway", gateway.Healthcheck.Test, []string{"CMD", "/gateway", "healthcheck"}},
		{"vendorsim", sim.Healthcheck.Test, []string{"CMD", "/gateway", "healthcheck", "-url", "http://127.0.0.1:" + simPort + "/_sim/healthz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("healthcheck test = %q, want %q", tt.got, tt.want)
			}
		})
	}
	t.Run("stop_grace_period", func(t *testing.T) {
		grace, err := time.ParseDuration(gateway.StopGracePeriod)
		if err != nil {
			t.Fatalf("stop_grace_period %q: %v", gateway.StopGracePeriod, err)
		}
		drain, err := time.ParseDuration(gateway.env("GATEWAY_SHUTDOWN_TIMEOUT", configDefault(t, "GATEWAY_SHUTDOWN_TIMEOUT")))
		if err != nil {
			t.Fatal(err)
		}
		if grace <= drain {
			t.Errorf("stop_grace_period %v leaves GATEWAY_SHUTDOWN_TIMEOUT %v no time: Docker would kill a draining gateway", grace, drain)
		}
	})
}

func TestEnvExampleListsEveryVariableWithItsDefault(t *testing.T) {
	lines := strings.Split(readRepoFile(t, ".env.example"), "\n")
	var names []string
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example line %d is not NAME=value: %q", i+1, line)
			continue
		}
		names = append(names, name)
		if want := configDefault(t, name); value != want {
			t.Errorf(".env.example: %s=%q, want its default %q", name, value, want)
		}
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf(".env.example: %s has no comment above it", name)
		}
	}
	if want := variables(); !slices.Equal(names, want) {
		t.Errorf(".env.example lists\n%q\nwant every variable, in order:\n%q", names, want)
	}
}

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	for _, name := range variables() {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
	}
}

// dockerStage is one FROM section of the Dockerfile: its image, its name and its
// instructions, each a keyword followed by its arguments on one line.
type dockerStage struct {
	image, name string
	instr       []string
}

func (s dockerStage) find(keyword string) []string {
	var out []string
	for _, in := range s.instr {
		if kw, rest, _ := strings.Cut(in, " "); strings.EqualFold(kw, keyword) {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

// parseDockerfile reads the stages line by line, joining continued lines.
func parseDockerfile(t *testing.T, text string) []dockerStage {
	t.Helper()
	var stages []dockerStage
	var cont string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if cont == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		in := strings.Join(strings.Fields(cont+line), " ")
		cont = ""
		if kw, _, _ := strings.Cut(in, " "); strings.EqualFold(kw, "FROM") {
			var args []string
			for _, f := range strings.Fields(in)[1:] {
				if !strings.HasPrefix(f, "--") {
					args = append(args, f)
				}
			}
			st := dockerStage{image: args[0]}
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				st.name = args[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before the first FROM
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return stages
}

func goDirective(t *testing.T) string {
	t.Helper()
	for line := range strings.SplitSeq(readRepoFile(t, "go.mod"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("go.mod has no go directive")
	return ""
}

func TestDockerfileBuilder(t *testing.T) {
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	builder := stages[0]
	if want := "golang:" + goDirective(t) + "-bookworm"; builder.image != want {
		t.Errorf("builder image %q, want %q (go.mod's go directive)", builder.image, want)
	}
	runs := strings.Join(builder.find("RUN"), "\n")
	for _, want := range []string{"go mod download", "CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "./cmd/gateway", "./cmd/vendorsim"} {
		if !strings.Contains(runs, want) {
			t.Errorf("the builder's RUN steps lack %q", want)
		}
	}
	// The module download is its own layer, before the sources are copied.
	order := []string{"COPY go.mod go.sum", "RUN go mod download", "COPY . ."}
	at := -1
	for _, prefix := range order {
		i := slices.IndexFunc(builder.instr, func(in string) bool { return strings.HasPrefix(in, prefix) })
		if i <= at {
			t.Errorf("builder steps %q are not in this order: %q", order, builder.instr)
			break
		}
		at = i
	}
}

func TestDockerfileRuntimeStages(t *testing.T) {
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	byName := map[string]dockerStage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	gateway, sim := loadCompose(t)
	gatewayStage := stages[len(stages)-1] // compose builds the default stage when it names no target
	if gateway.Build.Target != "" {
		gatewayStage = byName[gateway.Build.Target]
	}
	simPort := portOf(t, vendorsimDefaultAddr)
	tests := []struct {
		name        string
		stage       dockerStage
		expose      string
		healthcheck []string
		entrypoint  []string
	}{
		// `docker build` with no --target builds the last stage: it must be the gateway.
		{"default (last) stage", stages[len(stages)-1], portOf(t, configDefault(t, "GATEWAY_ADDR")),
			[]string{"/gateway", "healthcheck"}, []string{"/gateway"}},
		{"compose gateway target", gatewayStage, portOf(t, gateway.env("GATEWAY_ADDR", configDefault(t, "GATEWAY_ADDR"))),
			[]string{"/gateway", "healthcheck"}, []string{"/gateway"}},
		{"compose vendorsim target", byName[sim.Build.Target], simPort,
			[]string{"/gateway", "healthcheck", "-url", "http://127.0.0.1:" + simPort + "/_sim/healthz"}, []string{"/vendorsim"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.stage
			if s.image != "gcr.io/distroless/static-debian12:nonroot" {
				t.Errorf("runtime image %q, want gcr.io/distroless/static-debian12:nonroot", s.image)
			}
			if got := s.find("USER"); !slices.Equal(got, []string{"nonroot:nonroot"}) {
				t.Errorf("USER %q, want nonroot:nonroot", got)
			}
			if got := s.find("EXPOSE"); !slices.Equal(got, []string{tt.expose}) {
				t.Errorf("EXPOSE %q, want %s", got, tt.expose)
			}
			checkExecForm(t, "HEALTHCHECK", healthcheckCommand(t, s), tt.healthcheck)
			checkExecForm(t, "ENTRYPOINT", strings.Join(s.find("ENTRYPOINT"), ""), tt.entrypoint)
		})
	}
}

// healthcheckCommand is the JSON array after CMD in the stage's only HEALTHCHECK.
func healthcheckCommand(t *testing.T, s dockerStage) string {
	t.Helper()
	hc := s.find("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("stage %q has %d HEALTHCHECKs, want 1", s.name, len(hc))
	}
	_, cmd, ok := strings.Cut(hc[0], "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", hc[0])
	}
	return cmd
}

// checkExecForm wants a JSON array (exec form): distroless has no shell to run a string.
func checkExecForm(t *testing.T, what, got string, want []string) {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(got), &argv); err != nil {
		t.Errorf("%s %q is not in exec form: %v", what, got, err)
		return
	}
	if !slices.Equal(argv, want) {
		t.Errorf("%s %q, want %q", what, argv, want)
	}
}

func TestMakefileToolVersionsMatchCI(t *testing.T) {
	ci, mk := readRepoFile(t, ".ci/run"), readRepoFile(t, "Makefile")
	tests := []struct {
		name        string
		ciPattern   string
		makePattern string
	}{
		{"staticcheck", `staticcheck@(v[0-9.]+)`, `(?m)^STATICCHECK_VERSION\s*:=\s*(\S+)`},
		{"redocly", `(?m)^REDOCLY_VERSION=(\S+)`, `(?m)^REDOCLY_VERSION\s*:=\s*(\S+)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := regexp.MustCompile(tt.ciPattern).FindStringSubmatch(ci)
			m := regexp.MustCompile(tt.makePattern).FindStringSubmatch(mk)
			if c == nil || m == nil {
				t.Fatalf(".ci/run version %v, Makefile version %v: one is missing", c, m)
			}
			if c[1] != m[1] {
				t.Errorf("Makefile pins %s, .ci/run pins %s", m[1], c[1])
			}
		})
	}
}

func TestIgnoreFilesKeepCredentialsOut(t *testing.T) {
	tests := []struct {
		file, line string
	}{
		{".gitignore", "/.env"},
		{".gitignore", "/bin/"},
		{".dockerignore", ".env"},
		{".dockerignore", ".git"},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.line, func(t *testing.T) {
			lines := strings.Split(readRepoFile(t, tt.file), "\n")
			if !slices.Contains(lines, tt.line) {
				t.Errorf("%s lacks the line %q", tt.file, tt.line)
			}
		})
	}
}

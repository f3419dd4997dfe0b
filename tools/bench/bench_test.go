package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"

	atlasemu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

var (
	regionCounts = flag.String("regions", "3,30", "region counts to measure, comma-separated")
	rtts         = flag.String("rtt", "0,100ms", "round-trip times to inject in front of every endpoint, comma-separated")
	atlasCreate  = flag.Duration("atlas-create", 2*time.Second, "how long the Atlas emulator keeps a new cluster CREATING")
	binary       = flag.String("nekoctl", "", "nekoctl binary to measure (default: built here as the release is, CGO_ENABLED=0 -ldflags='-s -w')")
	startAtOnce  = flag.Int("start-at-once", 4, "API servers started at the same time")
	traceFile    = flag.String("trace", "", "write every connection and chunk the proxies forward to this file, with times from the start of each run")
	repeats      = flag.Int("repeat", 5, "runs of the no-change plan, of which the median is shown")
	profileDir   = flag.String("profile", "", "write a CPU and a heap profile of every run to this directory (NEKOCTL_CPUPROFILE, NEKOCTL_HEAPPROFILE)")
)

// BenchmarkStack runs, for every region count and round-trip time, the
// four runs of the issue against both emulators and real API servers, each
// behind a delaying proxy, and prints one table. Run it once:
//
//	go test -run '^$' -bench Stack -benchtime 1x -timeout 60m ./tools/bench/
func BenchmarkStack(b *testing.B) {
	floorBin := filepath.Join(b.TempDir(), "floor")
	if out, err := exec.Command("go", "build", "-o", floorBin, "github.com/neko-defense/nekoctl/tools/bench/floor").CombinedOutput(); err != nil {
		b.Fatalf("building the floor client: %v\n%s", err, out)
	}
	bin := *binary
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "nekoctl")
		// As the release builds it: with cgo the linker would keep plugin
		// support, every symbol exported, and a larger binary paged in.
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/neko-defense/nekoctl/cmd/nekoctl")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building nekoctl: %v\n%s", err, out)
		}
	}
	if err := settlePageCache(bin); err != nil {
		b.Fatal(err)
	}
	var rows []row
	var notes []string
	for _, n := range ints(b, *regionCounts) {
		w := startWorld(b, n)
		for i, rtt := range durations(b, *rtts) {
			r, note := w.measure(b, bin, floorBin, fmt.Sprintf("bench%d", i), rtt)
			rows = append(rows, r...)
			notes = append(notes, note)
		}
		w.stop()
	}
	b.StopTimer()
	printTable(os.Stdout, rows)
	for _, n := range notes {
		fmt.Println(n)
	}
}

// world is the emulators and one API server per region.
type world struct {
	regions []string
	kube    *kubetest.Env
	cf      *cfemu.Server
	atlas   *atlasemu.Server
}

func startWorld(b *testing.B, n int) *world {
	ctx := context.Background()
	var regions []string
	for i := 1; i <= n; i++ {
		regions = append(regions, fmt.Sprintf("r%02d", i))
	}
	start := time.Now()
	// Thirty API servers starting at once on two cores each take minutes:
	// they start a few at a time, each with ten minutes to get ready.
	kube, err := kubetest.Start(ctx, kubetest.Options{Audit: true, StartAtOnce: *startAtOnce, ReadyTimeout: 10 * time.Minute}, regions...)
	if err != nil {
		b.Fatal(err)
	}
	var g errgroup.Group
	g.SetLimit(*startAtOnce)
	for i, r := range regions {
		g.Go(func() error {
			if err := kube.CreateGateway(ctx, r, "gateway-system", "public-gateway", fmt.Sprintf("198.51.100.%d", 10+i)); err != nil {
				return err
			}
			if err := kube.InstallPrometheusOperatorCRDs(ctx, r); err != nil {
				return err
			}
			return kube.ListCustomResources(ctx, r)
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "bench: %d API servers ready in %s\n", n, time.Since(start).Round(time.Second))
	cf := cfemu.New(b)
	if n > spec.MaxLoadBalancerPools { // an Enterprise contract: one pool per region of every stack measured
		cf.SetLoadBalancingLimit(cfemu.DefaultAccount, n*len(durations(b, *rtts)))
	}
	return &world{regions: regions, kube: kube, cf: cf,
		atlas: atlasemu.New(atlasemu.Options{CreateDuration: *atlasCreate, UpdateDuration: *atlasCreate, DeleteDuration: *atlasCreate})}
}

func (w *world) stop() {
	w.kube.Stop()
	w.cf.Close()
	w.atlas.Close()
}

// row is one run's measurements.
type row struct {
	regions         int
	rtt             time.Duration
	phase           string
	wall, cpu       time.Duration
	others          time.Duration // CPU the rest of the machine used meanwhile (servers, proxies, emulators)
	peak            memPeak
	cf, atlas, kube int
	objects         int // Kubernetes objects of the stack
	resources       int // all resources of the stack
	writes          int
	lockWrites      int
	kubeReads       []string // the GETs and LISTs sent, a context (region), a tab, a request URI each
}

// measure runs the four phases for one fresh stack (its own zone, project
// and namespace) with every endpoint rtt away.
func (w *world) measure(b *testing.B, bin, floorBin, name string, rtt time.Duration) ([]row, string) {
	dir := b.TempDir()
	domain := name + ".nekodefense.example"
	w.cf.AddZone(domain, zonePlan(len(w.regions)))
	w.serveOrigin(b, name)
	var proxies []*delayProxy
	tr := openTrace(b, rtt)
	defer tr.close()
	proxy := func(name string) func(string) string {
		return func(hostport string) string {
			p, err := startProxy(hostport, rtt, tr.endpoint(name))
			if err != nil {
				b.Fatal(err)
			}
			proxies = append(proxies, p)
			return p.Addr()
		}
	}
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	cfURL := rehost(w.cf.URL(), proxy("cloudflare"))
	atlasURL := rehost(w.atlas.URL(), proxy("atlas"))
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(w.kube.Kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	for name, c := range cfg.Clusters {
		c.Server = rehost(c.Server, proxy("kube/"+name))
	}
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		b.Fatal(err)
	}
	specFile := filepath.Join(dir, "nekoctl.yaml")
	spec := stackSpec(name, domain, w.regions, atlasURL, atlasemu.DefaultOrgID, cfemu.DefaultAccount)
	if err := os.WriteFile(specFile, []byte(spec), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(),
		"CLOUDFLARE_API_TOKEN="+w.cf.Token(), "CLOUDFLARE_BASE_URL="+cfURL,
		"MONGODB_ATLAS_PUBLIC_API_KEY="+atlasemu.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_API_KEY="+atlasemu.DefaultPrivateKey,
		"KUBECONFIG="+kubeconfig, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))

	var rows []row
	var notes []string
	resources, objects := 0, 0
	for _, phase := range []string{"plan from empty", "up", "no-change plan", "no-change up"} {
		args := []string{"plan", "-f", specFile, "-o", "json"}
		if strings.HasSuffix(phase, "up") {
			args = []string{"up", "-f", specFile, "--yes", "-o", "json"}
		}
		runs := 1
		if phase == "no-change plan" {
			runs = max(*repeats, 1)
		}
		var tries []row
		var res result
		for range runs {
			var r row
			r, res = w.runPhase(b, bin, phase, args, append(env, profileEnv(b, len(w.regions), rtt, phase)...), rtt, tr)
			tries = append(tries, r)
		}
		if phase == "plan from empty" {
			resources, objects = countResources(b, res.stdout)
		}
		if phase == "up" {
			notes = append(notes, criticalPath(b, len(w.regions), rtt, res))
		}
		// A plan that only reads is measured several times and the run of
		// median wall time kept: one run on a small shared machine varies
		// by tens of milliseconds (the issue's own figures are medians).
		slices.SortFunc(tries, func(a, b row) int { return cmp.Compare(a.wall, b.wall) })
		r := tries[len(tries)/2]
		if len(tries) > 1 {
			notes = append(notes, fmt.Sprintf("%s, %d regions, RTT %s: the median of %d runs (wall %s to %s)",
				phase, len(w.regions), rtt, len(tries), tries[0].wall.Round(time.Millisecond), tries[len(tries)-1].wall.Round(time.Millisecond)))
		}
		r.resources, r.objects = resources, objects
		rows = append(rows, r)
		printTable(os.Stderr, []row{r}) // what is measured survives a later failure
		if phase == "no-change plan" {
			f, note := w.floor(b, floorBin, dir, kubeconfig, r, rtt, tr)
			rows = append(rows, f)
			notes = append(notes, note)
			printTable(os.Stderr, []row{f})
		}
	}
	return rows, strings.Join(notes, "\n")
}

// runPhase runs nekoctl once for a phase, with the stand-in controllers
// quiet and the servers' counts started afresh, and measures it.
func (w *world) runPhase(b *testing.B, bin, phase string, args, env []string, rtt time.Duration, tr *trace) (row, result) {
	if err := w.kube.Controller().WaitQuiet(context.Background()); err != nil {
		b.Fatal(err)
	}
	w.resetCounts()
	audit := w.auditMarks(b)
	tr.phase(phase)
	res := run(b, bin, env, args)
	r := row{regions: len(w.regions), rtt: rtt, phase: phase, wall: res.wall, cpu: res.cpu, others: res.others, peak: res.peak,
		cf: w.cf.TotalCalls(), atlas: w.atlas.Total()}
	r.writes = w.atlas.Mutations() + cfWrites(w.cf.Calls())
	for _, reg := range w.regions {
		evs, _, err := w.kube.AuditEvents(reg, "nekoctl/", audit[reg])
		if err != nil {
			b.Fatal(err)
		}
		r.kube += len(evs)
		if os.Getenv("BENCH_DEBUG") != "" {
			all, _, _ := w.kube.AuditEvents(reg, "", audit[reg])
			uas := map[string]int{}
			for _, e := range all {
				uas[e.UserAgent]++
			}
			fmt.Fprintln(os.Stderr, phase, reg, uas)
		}
		for _, e := range evs {
			if e.Verb == "get" || e.Verb == "list" {
				r.kubeReads = append(r.kubeReads, reg+"\t"+e.RequestURI)
			}
			switch {
			case !e.Write():
			case strings.Contains(e.RequestURI, "/apis/coordination.k8s.io/"):
				r.lockWrites++ // the stack lock's Lease, held by every up
			default:
				r.writes++
			}
		}
	}
	return r, res
}

// floor runs the floor client (tools/bench/floor) with the Kubernetes reads
// of a no-change plan, as often as the plan ran, and keeps the run of median
// wall time: how long those reads take on this machine from a client that
// does nothing else, the least a plan could take here.
func (w *world) floor(b *testing.B, floorBin, dir, kubeconfig string, plan row, rtt time.Duration, tr *trace) (row, string) {
	requests := filepath.Join(dir, "floor-requests")
	if err := os.WriteFile(requests, []byte(strings.Join(plan.kubeReads, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	var tries []row
	for range max(*repeats, 1) {
		if err := w.kube.Controller().WaitQuiet(context.Background()); err != nil {
			b.Fatal(err)
		}
		tr.phase("floor")
		res := run(b, floorBin, os.Environ(), []string{"-kubeconfig", kubeconfig, "-requests", requests})
		tries = append(tries, row{regions: len(w.regions), rtt: rtt, phase: "floor: the plan's Kubernetes reads alone",
			wall: res.wall, cpu: res.cpu, others: res.others, peak: res.peak, kube: len(plan.kubeReads),
			objects: plan.objects})
	}
	slices.SortFunc(tries, func(a, b row) int { return cmp.Compare(a.wall, b.wall) })
	return tries[len(tries)/2], fmt.Sprintf("floor, %d regions, RTT %s: the median of %d runs (wall %s to %s)",
		len(w.regions), rtt, len(tries), tries[0].wall.Round(time.Millisecond), tries[len(tries)-1].wall.Round(time.Millisecond))
}

// serveOrigin points every region's Gateway HTTPS listener at the origin
// certificate of the stack in namespace ns, as an operator does for the
// stack the Gateway serves (up checks it).
func (w *world) serveOrigin(b *testing.B, ns string) {
	gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/listeners/1/tls/certificateRefs/0/namespace","value":%q}]`, ns)
	for _, r := range w.regions {
		_, err := w.kube.Dynamic(r).Resource(gvr).Namespace("gateway-system").Patch(context.Background(), "public-gateway",
			types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			b.Fatalf("region %s: pointing the Gateway at namespace %s: %v", r, ns, err)
		}
	}
}

func (w *world) resetCounts() {
	w.cf.ResetCalls()
	w.atlas.ResetCounts()
}

func (w *world) auditMarks(b *testing.B) map[string]int {
	marks := map[string]int{}
	for _, r := range w.regions {
		_, n, err := w.kube.AuditEvents(r, "", 0)
		if err != nil {
			b.Fatal(err)
		}
		marks[r] = n
	}
	return marks
}

func cfWrites(calls map[string]int) int {
	n := 0
	for k, v := range calls {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// rehost points a URL (or host:port) at a proxy in front of its host.
func rehost(u string, proxy func(string) string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return proxy(u)
	}
	host, path, _ := strings.Cut(rest, "/")
	out := scheme + "://" + proxy(host)
	if path != "" {
		out += "/" + path
	}
	return out
}

type result struct {
	wall, cpu      time.Duration
	others         time.Duration
	peak           memPeak
	stdout, stderr []byte
}

// profileEnv asks the run for its profiles when -profile is set, in files
// named by region count, RTT and phase (cpu-3-100ms-no-change-plan.pprof).
func profileEnv(b *testing.B, regions int, rtt time.Duration, phase string) []string {
	if *profileDir == "" {
		return nil
	}
	if err := os.MkdirAll(*profileDir, 0o755); err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("%d-%s-%s.pprof", regions, rtt, strings.ReplaceAll(phase, " ", "-"))
	return []string{"NEKOCTL_CPUPROFILE=" + filepath.Join(*profileDir, "cpu-"+name),
		"NEKOCTL_HEAPPROFILE=" + filepath.Join(*profileDir, "heap-"+name)}
}

func run(b *testing.B, bin string, env, args []string) result {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	busy := machineBusy()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The child's rusage peak would start from this process's own: Go
	// starts children with vfork, and Linux counts the memory shared
	// before exec. The kernel's high-water mark of the child's own memory
	// is read from /proc instead, until it exits.
	peak := make(chan memPeak, 1)
	stop := make(chan struct{})
	go func() { peak <- watchPeak(cmd.Process.Pid, stop) }()
	err := cmd.Wait()
	wall := time.Since(start)
	machine := machineBusy() - busy
	close(stop)
	if err != nil {
		b.Fatalf("nekoctl %s: %v\n%s", strings.Join(args, " "), err, tail(errOut.String()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return result{wall: wall, cpu: cpu, others: max(machine-cpu, 0),
		peak: <-peak, stdout: out.Bytes(), stderr: errOut.Bytes()}
}

// memPeak is a process's high-water mark of resident memory (VmHWM, kB)
// and, at the largest resident size seen, its split: pages of the
// executable and other files (RssFile) and the process's own (RssAnon),
// and how much of the file pages the kernel mapped in 2 MB pages
// (FilePmdMapped, see settlePageCache).
type memPeak struct {
	hwm, file, anon, filePMD int64
}

func (m memPeak) String() string {
	s := fmt.Sprintf("%.0f (%.0f + %.0f)", float64(m.hwm)/1024, float64(m.file)/1024, float64(m.anon)/1024)
	if m.filePMD > 0 {
		s += fmt.Sprintf(" [%.0f of the file pages in 2 MB pages]", float64(m.filePMD)/1024)
	}
	return s
}

// procFields reads a /proc file of "Name: value kB" lines.
func procFields(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
			f[k] = n
		}
	}
	return f, nil
}

// watchPeak reads a process's memory figures every few milliseconds until
// stop closes or the process is gone, and returns the last high-water mark
// read with the split of the largest resident size seen.
func watchPeak(pid int, stop <-chan struct{}) memPeak {
	var last memPeak
	var maxRSS int64
	var rolledUp time.Time
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		f, err := procFields(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return last
		}
		if f["VmHWM"] > 0 {
			last.hwm = f["VmHWM"]
		}
		if f["VmRSS"] > maxRSS {
			maxRSS, last.file, last.anon = f["VmRSS"], f["RssFile"], f["RssAnon"]
			// smaps_rollup walks every page table of the process, and the
			// resident size grows at nearly every tick: read at that pace
			// it would cost the machine more CPU than the run it measures.
			if time.Since(rolledUp) >= 100*time.Millisecond {
				rolledUp = time.Now()
				if r, err := procFields(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
					last.filePMD = r["FilePmdMapped"]
				}
			}
		}
		select {
		case <-stop:
			return last
		case <-t.C:
		}
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// planDoc is the part of `plan -o json` the benchmark reads.
type planDoc struct {
	Changes []struct {
		Address  string `json:"address"`
		Action   string `json:"action"`
		Resource struct {
			Provider, Kind string
		} `json:"resource"`
		DependsOn []address       `json:"depends_on"`
		Produces  []string        `json:"produces"`
		After     json.RawMessage `json:"after"`
	} `json:"changes"`
	Rollout *struct {
		Waves []struct {
			Changes []address `json:"changes"`
		} `json:"waves"`
	} `json:"rollout"`
}

// address is a change's address as the plan's JSON writes it.
type address struct{ Provider, Scope, Region, Kind, Name string }

func (a address) String() string {
	return fmt.Sprintf("%s[%s].%s[%q]", a.Provider, a.Scope, a.Kind, a.Name)
}

func countResources(b *testing.B, stdout []byte) (all, kube int) {
	var p planDoc
	if err := json.Unmarshal(stdout, &p); err != nil {
		b.Fatalf("reading the plan: %v", err)
	}
	for _, c := range p.Changes {
		all++
		if c.Resource.Provider == "kubernetes" {
			kube++
		}
	}
	return all, kube
}

func ints(b *testing.B, s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("-regions: %v", err)
		}
		out = append(out, n)
	}
	return out
}

func durations(b *testing.B, s string) []time.Duration {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil {
			b.Fatalf("-rtt: %v", err)
		}
		out = append(out, d)
	}
	return out
}

func printTable(w *os.File, rows []row) {
	fmt.Fprintln(w, "| regions | RTT | run | wall | CPU | others' CPU | peak MB (file + anon) | requests CF / Atlas / Kube | Kube requests per object | requests per resource | round trips | writes |")
	fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
	for _, r := range rows {
		trips := "-"
		if r.rtt > 0 {
			trips = fmt.Sprintf("%.1f", float64(r.wall)/float64(r.rtt))
		}
		perObj, perRes := "-", "-"
		if r.objects > 0 {
			perObj = fmt.Sprintf("%.2f", float64(r.kube)/float64(r.objects))
		}
		if r.resources > 0 {
			perRes = fmt.Sprintf("%.2f", float64(r.cf+r.atlas+r.kube)/float64(r.resources))
		}
		writes := strconv.Itoa(r.writes)
		if r.lockWrites > 0 {
			writes += fmt.Sprintf(" (+%d lock)", r.lockWrites)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %.2f s | %.2f s | %.2f s | %s | %d / %d / %d | %s | %s | %s | %s |\n",
			r.regions, r.rtt, r.phase, r.wall.Seconds(), r.cpu.Seconds(), r.others.Seconds(), r.peak, r.cf, r.atlas, r.kube, perObj, perRes, trips, writes)
	}
}

// criticalPath reads the first up's plan and events and finds the slowest
// chain of changes (each change's own duration, summed along dependencies:
// explicit, through a value one change produces for another, or a rollout
// wave's Deployments waiting for the previous wave's).
func criticalPath(b *testing.B, regions int, rtt time.Duration, res result) string {
	var p planDoc
	if err := json.Unmarshal(res.stdout, &p); err != nil {
		b.Fatalf("reading the up's plan: %v", err)
	}
	type span struct{ start, end time.Time }
	spans := map[string]*span{}
	var first, last time.Time
	for _, line := range bytes.Split(res.stderr, []byte("\n")) {
		var ev struct {
			Resource string    `json:"resource"`
			Type     string    `json:"type"`
			Time     time.Time `json:"time"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.Resource == "" {
			continue
		}
		s := spans[ev.Resource]
		if s == nil {
			s = &span{}
			spans[ev.Resource] = s
		}
		switch ev.Type {
		case "started":
			s.start = ev.Time
			if first.IsZero() || ev.Time.Before(first) {
				first = ev.Time
			}
		case "succeeded", "failed":
			s.end = ev.Time
			if ev.Time.After(last) {
				last = ev.Time
			}
		}
	}
	producer := map[string]string{}
	for _, c := range p.Changes {
		for _, k := range c.Produces {
			producer[k] = c.Address
		}
	}
	deps := map[string][]string{}
	for _, c := range p.Changes {
		for _, d := range c.DependsOn {
			deps[c.Address] = append(deps[c.Address], d.String())
		}
		for _, k := range unknownKeys(c.After) {
			if a, ok := producer[k]; ok && a != c.Address {
				deps[c.Address] = append(deps[c.Address], a)
			}
		}
	}
	// A rollout wave's workload changes wait for the nearest earlier wave's,
	// as the engine orders them.
	if p.Rollout != nil {
		var prev []address
		for _, w := range p.Rollout.Waves {
			if len(w.Changes) == 0 {
				continue
			}
			for _, c := range w.Changes {
				for _, d := range prev {
					deps[c.String()] = append(deps[c.String()], d.String())
				}
			}
			prev = w.Changes
		}
	}
	memo := map[string]time.Duration{}
	next := map[string]string{}
	var finish func(a string) time.Duration
	finish = func(a string) time.Duration {
		if d, ok := memo[a]; ok {
			return d
		}
		memo[a] = 0
		var own time.Duration
		if s := spans[a]; s != nil && !s.start.IsZero() && !s.end.IsZero() {
			own = s.end.Sub(s.start)
		}
		best := time.Duration(0)
		for _, d := range deps[a] {
			if f := finish(d); f > best {
				best, next[a] = f, d
			}
		}
		memo[a] = best + own
		return memo[a]
	}
	var end string
	var longest time.Duration
	for a := range spans {
		if f := finish(a); f > longest {
			longest, end = f, a
		}
	}
	var chain []string
	for a := end; a != ""; a = next[a] {
		chain = append(chain, shortAddr(a))
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	applyWall := last.Sub(first)
	return fmt.Sprintf("first up, %d regions, RTT %s: wall %.2f s, of which applying %.2f s; critical path %.2f s (%.2fx): %s",
		regions, rtt, res.wall.Seconds(), applyWall.Seconds(), longest.Seconds(), applyWall.Seconds()/max(longest.Seconds(), 0.001),
		strings.Join(chain, " → "))
}

// unknownKeys lists the outputs a planned document waits for.
func unknownKeys(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if k, ok := x["known_after_apply"].(string); ok && len(x) == 1 {
				out = append(out, k)
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// shortAddr keeps a change's provider, region and kind.
func shortAddr(a string) string {
	prov, rest, _ := strings.Cut(a, "[")
	scope, rest, _ := strings.Cut(rest, "]")
	kind, _, _ := strings.Cut(strings.TrimPrefix(rest, "."), "[")
	if strings.HasPrefix(scope, "region/") {
		return prov + "/" + strings.TrimPrefix(scope, "region/") + " " + kind
	}
	return prov + " " + kind
}

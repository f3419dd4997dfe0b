package cost

import (
	"fmt"
	"math"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// FormatVersion is carried by the JSON rendering of an estimate.
const FormatVersion = "1.0"

// DefaultRequestsPerDay is the traffic an estimate assumes unless told.
const DefaultRequestsPerDay = 1_000_000

// Global is the region of costs that belong to no one region.
const Global = "global"

// Line is one priced component in one region.
type Line struct {
	Provider  string  `json:"provider"`
	Component string  `json:"component"`
	Region    string  `json:"region"`
	Detail    string  `json:"detail,omitempty"`
	Monthly   float64 `json:"monthly"`
	// createdBy is the provider/kind of the planned resource whose creation
	// brings this cost; empty for costs nekoctl does not create (the zone
	// plan, the Kubernetes cluster, traffic).
	createdBy string
	// peak is the monthly cost at the HPA maximum, for node lines.
	peak float64
}

// PricesInfo says which table an estimate used.
type PricesInfo struct {
	Source  string `json:"source"`
	Version int    `json:"version"`
	Date    string `json:"date"`
}

// Estimate is a stack's monthly cost, line by line.
type Estimate struct {
	FormatVersion  string     `json:"format_version"`
	Stack          string     `json:"stack"`
	Currency       string     `json:"currency"`
	Prices         PricesInfo `json:"prices"`
	RequestsPerDay int64      `json:"requests_per_day"`
	Lines          []Line     `json:"lines"`
	// Total is the monthly cost with every region at its HPA minimum; Peak
	// with every region at its maximum.
	Total float64 `json:"total_monthly"`
	Peak  float64 `json:"peak_monthly"`
	// PerMillionRequests is Total spread over the month's requests.
	PerMillionRequests float64  `json:"per_million_requests"`
	Notes              []string `json:"notes,omitempty"`
}

// Options are the traffic assumptions of one estimate.
type Options struct {
	RequestsPerDay int64
}

// Estimate prices a validated, defaulted stack.
func (p *Prices) Estimate(st *spec.Stack, o Options) (*Estimate, error) {
	e := &Estimate{
		FormatVersion: FormatVersion, Stack: st.Metadata.Name, Currency: p.Currency,
		Prices:         PricesInfo{Source: p.Source, Version: p.Version, Date: p.Date},
		RequestsPerDay: o.RequestsPerDay,
	}
	b := &builder{p: p, st: &st.Spec, e: e, requests: float64(o.RequestsPerDay) * p.HoursPerMonth / 24}
	b.cloudflare()
	if err := b.atlas(); err != nil {
		return nil, err
	}
	for i := range st.Spec.Regions {
		if err := b.kubernetes(&st.Spec.Regions[i]); err != nil {
			return nil, err
		}
	}
	for _, l := range e.Lines {
		e.Total += l.Monthly
		e.Peak += math.Max(l.Monthly, l.peak)
	}
	e.Total, e.Peak = cents(e.Total), cents(e.Peak)
	if b.requests > 0 {
		e.PerMillionRequests = math.Round(e.Total/(b.requests/1e6)*10000) / 10000
	}
	return e, nil
}

type builder struct {
	p        *Prices
	st       *spec.Spec
	e        *Estimate
	requests float64 // per month
}

func (b *builder) add(l Line) {
	l.Monthly, l.peak = cents(l.Monthly), cents(l.peak)
	b.e.Lines = append(b.e.Lines, l)
}

func (b *builder) note(format string, args ...any) {
	b.e.Notes = append(b.e.Notes, fmt.Sprintf(format, args...))
}

func (b *builder) hours(perHour float64) float64 { return perHour * b.p.HoursPerMonth }

func (b *builder) cloudflare() {
	cf := b.st.Cloudflare
	price, ok := b.p.Cloudflare.Plans[cf.Plan]
	switch {
	case cf.Plan == "enterprise":
		b.note("Cloudflare Enterprise is priced by contract: the zone plan is not included")
	case !ok:
		b.note("the price table has no Cloudflare %q plan: not included", cf.Plan)
	}
	b.add(Line{Provider: "cloudflare", Component: "Cloudflare " + cf.Plan + " plan", Region: Global, Monthly: price})
	if !spec.On(cf.LoadBalancer.Enabled) {
		return
	}
	lb := b.p.Cloudflare.LoadBalancing
	origins := len(b.st.Regions) // one origin per region's pool
	queries := b.requests * b.p.Traffic.DNSQueriesPerRequest
	monthly := lb.Monthly + float64(max(0, origins-lb.IncludedOrigins))*lb.PerExtraOrigin
	if extra := queries - lb.IncludedQueries; extra > 0 && lb.QueryBlock > 0 {
		monthly += math.Ceil(extra/lb.QueryBlock) * lb.PerQueryBlock
	}
	b.add(Line{Provider: "cloudflare", Component: "Cloudflare load balancing", Region: Global,
		Detail:  fmt.Sprintf("%d origins, %s DNS queries", origins, count(queries)),
		Monthly: monthly, createdBy: "cloudflare/load_balancer"})
}

func (b *builder) atlas() error {
	a := b.st.Atlas
	tier := a.Cluster.Tier
	for _, r := range b.st.Regions {
		nodes := r.Atlas.ReadOnlyNodes
		if r.Atlas.ElectableNodes != nil {
			nodes += *r.Atlas.ElectableNodes
		}
		if nodes == 0 {
			continue
		}
		regions, ok := b.p.Atlas.Regions[r.Atlas.Provider]
		if !ok {
			return fmt.Errorf("the price table (%s) has no Atlas prices for provider %s", b.p.Source, r.Atlas.Provider)
		}
		tiers, listed := lookup(regions, r.Atlas.Region)
		price, ok := tiers[tier]
		if !ok {
			return fmt.Errorf("the price table (%s) has no Atlas %s price for %s %s: add it and pass --prices", b.p.Source, tier, r.Atlas.Provider, r.Atlas.Region)
		}
		detail := plural(nodes, "node") + " in " + r.Atlas.Region
		if !listed {
			detail += ", default prices"
			b.note("Atlas region %s %s is not in the price table: priced with its default entry", r.Atlas.Provider, r.Atlas.Region)
		}
		b.add(Line{Provider: "atlas", Component: "Atlas " + tier + " cluster", Region: r.Name, Detail: detail,
			Monthly: b.hours(price / 3 * float64(nodes)), createdBy: "atlas/cluster"})
	}
	if a.Cluster.Autoscaling != nil && a.Cluster.Autoscaling.Compute {
		b.note("Atlas compute autoscaling may raise the tier up to %s; priced at %s", a.Cluster.Autoscaling.MaxTier, tier)
	}
	if a.Cluster.DiskSizeGB > 0 {
		b.note("a custom Atlas disk (%d GB) is billed on top of the tier price; not included", a.Cluster.DiskSizeGB)
	}
	if !spec.On(a.Backup.Enabled) {
		return nil
	}
	disk := b.p.Atlas.DiskGB[tier]
	if a.Cluster.DiskSizeGB > 0 {
		disk = float64(a.Cluster.DiskSizeGB)
	}
	primary := Global
	if r := b.st.PrimaryRegion(); r != nil {
		primary = r.Name
	}
	detail := fmt.Sprintf("%s GB of snapshots", trim(disk))
	if a.Backup.PITRWindowDays != nil && *a.Backup.PITRWindowDays > 0 {
		detail += fmt.Sprintf(", %d-day point-in-time window", *a.Backup.PITRWindowDays)
	}
	b.add(Line{Provider: "atlas", Component: "Atlas cloud backup", Region: primary, Detail: detail,
		Monthly: disk * b.p.Atlas.BackupPerGBMonth, createdBy: "atlas/cluster"})
	return nil
}

var controlPlaneNames = map[string]string{"aws": "EKS", "gcp": "GKE", "azure": "AKS"}

func (b *builder) kubernetes(r *spec.Region) error {
	cloud, ok := b.p.Kubernetes[r.Cloud.Provider]
	if !ok {
		return fmt.Errorf("the price table (%s) has no Kubernetes prices for provider %s", b.p.Source, r.Cloud.Provider)
	}
	rp, listed := lookup(cloud.Regions, r.Cloud.Region)
	if !listed {
		b.note("cloud region %s %s is not in the price table: priced with its default entry", r.Cloud.Provider, r.Cloud.Region)
	}
	name := func(s string) string {
		if !listed {
			return s + " (default prices)"
		}
		return s
	}
	b.add(Line{Provider: "kubernetes", Component: name(controlPlaneNames[r.Cloud.Provider] + " control plane"), Region: r.Name,
		Monthly: b.hours(cloud.ControlPlanePerHour)})

	low, err := b.nodes(cloud, r, r.Replicas.Min)
	if err != nil {
		return err
	}
	high, err := b.nodes(cloud, r, r.Replicas.Max)
	if err != nil {
		return err
	}
	b.add(Line{Provider: "kubernetes", Component: name("Nodes"), Region: r.Name,
		Detail:  fmt.Sprintf("%d × %s for %d-%d API pods and Redis; %d at the maximum", low, cloud.Node.Type, r.Replicas.Min, r.Replicas.Max, high),
		Monthly: b.hours(rp.Node * float64(low)), peak: b.hours(rp.Node * float64(high)), createdBy: "kubernetes/Deployment"})

	w := b.st.Workload
	if spec.On(w.Redis.Enabled) {
		gib, err := gibibytes(w.Redis.Storage)
		if err != nil {
			return fmt.Errorf("spec.workload.redis.storage: %w", err)
		}
		b.add(Line{Provider: "kubernetes", Component: name("Redis volume"), Region: r.Name,
			Detail:  w.Redis.Storage + "; its memory is on the nodes",
			Monthly: gib * rp.StorageGBMonth, createdBy: "kubernetes/StatefulSet"})
	}
	b.add(Line{Provider: "kubernetes", Component: name("Load balancer"), Region: r.Name,
		Detail:  fmt.Sprintf("in front of the %s", w.Exposure.Type),
		Monthly: b.hours(rp.LoadBalancer), createdBy: "kubernetes/Gateway"})
	b.add(Line{Provider: "kubernetes", Component: name("Load-balancer IPs"), Region: r.Name,
		Detail:  fmt.Sprintf("%d public IPv4, one per zone", rp.Zones),
		Monthly: b.hours(rp.PublicIP * float64(rp.Zones)), createdBy: "kubernetes/Gateway"})

	// Geo steering splits traffic unevenly; an even split is the honest
	// default without measurements.
	gb := b.requests / float64(len(b.st.Regions)) * b.p.Traffic.ResponseBytes / 1e9
	b.add(Line{Provider: "kubernetes", Component: name("Egress"), Region: r.Name,
		Detail:  fmt.Sprintf("%s GB to the edge", trim(math.Round(gb*10)/10)),
		Monthly: gb * rp.EgressGB})
	return nil
}

// nodes packs replicas API pods and the region's Redis onto the documented
// node size, never fewer than the cloud's minimum.
func (b *builder) nodes(c Cloud, r *spec.Region, replicas int) (int, error) {
	cpu, err := cores(r.Resources.Requests.CPU)
	if err != nil {
		return 0, fmt.Errorf("regions[%s].resources.requests.cpu: %w", r.Name, err)
	}
	mem, err := gibibytes(r.Resources.Requests.Memory)
	if err != nil {
		return 0, fmt.Errorf("regions[%s].resources.requests.memory: %w", r.Name, err)
	}
	cpu, mem = cpu*float64(replicas), mem*float64(replicas)
	if w := b.st.Workload; spec.On(w.Redis.Enabled) {
		redisMem, err := gibibytes(w.Redis.Memory)
		if err != nil {
			return 0, fmt.Errorf("spec.workload.redis.memory: %w", err)
		}
		cpu, mem = cpu+redisCPU, mem+redisMem
	}
	n := max(
		math.Ceil(cpu/(c.Node.CPU*c.Node.Allocatable)),
		math.Ceil(mem/(c.Node.MemoryGiB*c.Node.Allocatable)),
		float64(c.MinNodes),
	)
	return int(n), nil
}

// redisCPU is the Redis container's CPU request in the manifests.
const redisCPU = 0.05

func cores(q string) (float64, error) {
	v, err := resource.ParseQuantity(q)
	if err != nil {
		return 0, err
	}
	return float64(v.MilliValue()) / 1000, nil
}

func gibibytes(q string) (float64, error) {
	v, err := resource.ParseQuantity(q)
	if err != nil {
		return 0, err
	}
	return float64(v.Value()) / (1 << 30), nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func cents(x float64) float64 { return math.Round(x*100) / 100 }

// trim prints a number without trailing zeros.
func trim(x float64) string {
	s := fmt.Sprintf("%.2f", x)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// count prints a large count briefly: 600k, 1.2M.
func count(x float64) string {
	switch {
	case x >= 1e6:
		return trim(math.Round(x/1e5)/10) + "M"
	case x >= 1e3:
		return trim(math.Round(x/1e2)/10) + "k"
	}
	return trim(math.Round(x))
}

// Package cost estimates what a stack costs per month from a dated,
// versioned price table, and what a planned change adds or removes.
package cost

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PricesVersion is the price-table format this build reads.
const PricesVersion = 1

//go:embed prices.yaml
var builtinPrices []byte

// Prices is the price table: list prices in one currency, per provider and
// region, with the assumptions that turn traffic into usage.
type Prices struct {
	Version       int              `yaml:"version"`
	Date          string           `yaml:"date"`
	Currency      string           `yaml:"currency"`
	HoursPerMonth float64          `yaml:"hoursPerMonth"`
	Traffic       Traffic          `yaml:"traffic"`
	Cloudflare    CloudflarePrices `yaml:"cloudflare"`
	Atlas         AtlasPrices      `yaml:"atlas"`
	Kubernetes    map[string]Cloud `yaml:"kubernetes"`
	// Source names where the table was read from.
	Source string `yaml:"-"`
}

// Traffic holds the assumptions that turn requests into bytes and queries.
type Traffic struct {
	ResponseBytes        float64 `yaml:"responseBytes"`
	DNSQueriesPerRequest float64 `yaml:"dnsQueriesPerRequest"`
}

// CloudflarePrices are the zone plans and the load-balancing add-on.
type CloudflarePrices struct {
	Plans         map[string]float64 `yaml:"plans"`
	LoadBalancing struct {
		Monthly         float64 `yaml:"monthly"`
		IncludedOrigins int     `yaml:"includedOrigins"`
		PerExtraOrigin  float64 `yaml:"perExtraOrigin"`
		IncludedQueries float64 `yaml:"includedQueries"`
		QueryBlock      float64 `yaml:"queryBlock"`
		PerQueryBlock   float64 `yaml:"perQueryBlock"`
	} `yaml:"loadBalancing"`
}

// AtlasPrices are hourly replica-set prices per provider, region and tier.
type AtlasPrices struct {
	Regions          map[string]map[string]map[string]float64 `yaml:"regions"`
	DiskGB           map[string]float64                       `yaml:"diskGB"`
	BackupPerGBMonth float64                                  `yaml:"backupPerGBMonth"`
}

// Cloud is one Kubernetes provider: its control-plane fee, the node size
// nodes are derived with, and per-region prices.
type Cloud struct {
	ControlPlanePerHour float64                 `yaml:"controlPlanePerHour"`
	Node                NodeSize                `yaml:"node"`
	MinNodes            int                     `yaml:"minNodes"`
	Regions             map[string]RegionPrices `yaml:"regions"`
}

// NodeSize is the documented node the estimate packs pods onto.
type NodeSize struct {
	Type        string  `yaml:"type"`
	CPU         float64 `yaml:"cpu"`
	MemoryGiB   float64 `yaml:"memoryGiB"`
	Allocatable float64 `yaml:"allocatable"`
}

// RegionPrices are one cloud region's hourly and per-unit prices.
type RegionPrices struct {
	Node           float64 `yaml:"node"`
	StorageGBMonth float64 `yaml:"storageGBMonth"`
	EgressGB       float64 `yaml:"egressGB"`
	LoadBalancer   float64 `yaml:"loadBalancer"`
	PublicIP       float64 `yaml:"publicIP"`
	Zones          int     `yaml:"zones"`
}

const defaultRegion = "default"

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Builtin returns the table compiled into this binary.
func Builtin() (*Prices, error) {
	return parsePrices("built-in price table", builtinPrices)
}

// LoadPrices reads a price table file that replaces the built-in one.
func LoadPrices(path string) (*Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading price table: %w", err)
	}
	return parsePrices(path, data)
}

func parsePrices(source string, data []byte) (*Prices, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Prices
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty price table", source)
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	p.Source = source
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &p, nil
}

// validate refuses a table this build cannot price with honestly: an
// unknown format, no date, or a provider without a default region.
func (p *Prices) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.Version != PricesVersion {
		bad("version %d is not supported (this nekoctl reads version %d)", p.Version, PricesVersion)
	}
	if !dateRE.MatchString(p.Date) {
		bad("date %q must be YYYY-MM-DD", p.Date)
	}
	if p.Currency == "" {
		bad("currency is required")
	}
	if p.HoursPerMonth <= 0 {
		bad("hoursPerMonth must be positive")
	}
	for _, provider := range sortedKeys(p.Atlas.Regions) {
		if _, ok := p.Atlas.Regions[provider][defaultRegion]; !ok {
			bad("atlas.regions.%s has no %q entry", provider, defaultRegion)
		}
	}
	for _, name := range sortedKeys(p.Kubernetes) {
		c := p.Kubernetes[name]
		if _, ok := c.Regions[defaultRegion]; !ok {
			bad("kubernetes.%s.regions has no %q entry", name, defaultRegion)
		}
		if c.Node.CPU <= 0 || c.Node.MemoryGiB <= 0 || c.Node.Allocatable <= 0 || c.Node.Allocatable > 1 {
			bad("kubernetes.%s.node needs positive cpu and memoryGiB and allocatable in (0, 1]", name)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// lookup returns the region's entry, or the "default" one and false when
// the table does not list the region.
func lookup[T any](m map[string]T, region string) (T, bool) {
	if v, ok := m[region]; ok {
		return v, true
	}
	return m[defaultRegion], false
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Package atlasregions is the one table of MongoDB Atlas region names per
// cloud provider, each with the provider's own region id. The spec
// validator and the Atlas emulator both use it, so a region one accepts the
// other accepts too.
//
// Source: Atlas's cloud provider reference pages (docs/atlas/reference/
// amazon-aws, google-gcp, microsoft-azure), which map each provider region
// to "the corresponding Atlas Region" the API uses. AWS names are the
// region ids in upper case with underscores; GCP and Azure have names of
// their own (us-central1 is CENTRAL_US, westeurope is EUROPE_WEST).
// Regions only Atlas for Government serves (AWS GovCloud) are listed too:
// spec.atlas.baseURL may point there.
package atlasregions

import (
	"slices"
	"sort"
)

// Region is one Atlas region and the cloud provider's id for it.
type Region struct {
	Atlas string // e.g. US_EAST_1, CENTRAL_US, EUROPE_WEST
	Cloud string // e.g. us-east-1, us-central1, westeurope
}

// Providers are Atlas's providerName values.
var Providers = []string{"AWS", "AZURE", "GCP"}

var table = map[string][]Region{
	"AWS": {
		{"US_EAST_1", "us-east-1"}, {"US_EAST_2", "us-east-2"}, {"US_WEST_1", "us-west-1"}, {"US_WEST_2", "us-west-2"},
		{"CA_CENTRAL_1", "ca-central-1"}, {"CA_WEST_1", "ca-west-1"}, {"MX_CENTRAL_1", "mx-central-1"},
		{"SA_EAST_1", "sa-east-1"},
		{"EU_WEST_1", "eu-west-1"}, {"EU_WEST_2", "eu-west-2"}, {"EU_WEST_3", "eu-west-3"},
		{"EU_CENTRAL_1", "eu-central-1"}, {"EU_CENTRAL_2", "eu-central-2"}, {"EU_NORTH_1", "eu-north-1"},
		{"EU_SOUTH_1", "eu-south-1"}, {"EU_SOUTH_2", "eu-south-2"},
		{"ME_SOUTH_1", "me-south-1"}, {"ME_CENTRAL_1", "me-central-1"}, {"IL_CENTRAL_1", "il-central-1"},
		{"AF_SOUTH_1", "af-south-1"},
		{"AP_EAST_1", "ap-east-1"}, {"AP_NORTHEAST_1", "ap-northeast-1"}, {"AP_NORTHEAST_2", "ap-northeast-2"},
		{"AP_NORTHEAST_3", "ap-northeast-3"}, {"AP_SOUTHEAST_1", "ap-southeast-1"}, {"AP_SOUTHEAST_2", "ap-southeast-2"},
		{"AP_SOUTHEAST_3", "ap-southeast-3"}, {"AP_SOUTHEAST_4", "ap-southeast-4"}, {"AP_SOUTHEAST_5", "ap-southeast-5"},
		{"AP_SOUTHEAST_7", "ap-southeast-7"}, {"AP_SOUTH_1", "ap-south-1"}, {"AP_SOUTH_2", "ap-south-2"},
		{"US_GOV_WEST_1", "us-gov-west-1"}, {"US_GOV_EAST_1", "us-gov-east-1"},
	},
	"GCP": {
		{"CENTRAL_US", "us-central1"}, {"EASTERN_US", "us-east1"}, {"US_EAST_4", "us-east4"}, {"US_EAST_5", "us-east5"},
		{"US_SOUTH_1", "us-south1"}, {"WESTERN_US", "us-west1"}, {"US_WEST_2", "us-west2"}, {"US_WEST_3", "us-west3"},
		{"US_WEST_4", "us-west4"}, {"NORTH_AMERICA_NORTHEAST_1", "northamerica-northeast1"},
		{"NORTH_AMERICA_NORTHEAST_2", "northamerica-northeast2"}, {"NORTH_AMERICA_SOUTH_1", "northamerica-south1"},
		{"SOUTH_AMERICA_EAST_1", "southamerica-east1"}, {"SOUTH_AMERICA_WEST_1", "southamerica-west1"},
		{"WESTERN_EUROPE", "europe-west1"}, {"EUROPE_WEST_2", "europe-west2"}, {"EUROPE_WEST_3", "europe-west3"},
		{"EUROPE_WEST_4", "europe-west4"}, {"EUROPE_WEST_6", "europe-west6"}, {"EUROPE_WEST_8", "europe-west8"},
		{"EUROPE_WEST_9", "europe-west9"}, {"EUROPE_WEST_10", "europe-west10"}, {"EUROPE_WEST_12", "europe-west12"},
		{"EUROPE_NORTH_1", "europe-north1"}, {"EUROPE_CENTRAL_2", "europe-central2"},
		{"EUROPE_SOUTHWEST_1", "europe-southwest1"},
		{"MIDDLE_EAST_CENTRAL_1", "me-central1"}, {"MIDDLE_EAST_CENTRAL_2", "me-central2"}, {"MIDDLE_EAST_WEST_1", "me-west1"},
		{"AFRICA_SOUTH_1", "africa-south1"},
		{"EASTERN_ASIA_PACIFIC", "asia-east1"}, {"ASIA_EAST_2", "asia-east2"},
		{"NORTHEASTERN_ASIA_PACIFIC", "asia-northeast1"}, {"ASIA_NORTHEAST_2", "asia-northeast2"},
		{"ASIA_NORTHEAST_3", "asia-northeast3"}, {"SOUTHEASTERN_ASIA_PACIFIC", "asia-southeast1"},
		{"ASIA_SOUTHEAST_2", "asia-southeast2"}, {"ASIA_SOUTH_1", "asia-south1"}, {"ASIA_SOUTH_2", "asia-south2"},
		{"AUSTRALIA_SOUTHEAST_1", "australia-southeast1"}, {"AUSTRALIA_SOUTHEAST_2", "australia-southeast2"},
	},
	"AZURE": {
		{"US_CENTRAL", "centralus"}, {"US_EAST", "eastus"}, {"US_EAST_2", "eastus2"}, {"US_NORTH_CENTRAL", "northcentralus"},
		{"US_WEST", "westus"}, {"US_SOUTH_CENTRAL", "southcentralus"}, {"US_WEST_CENTRAL", "westcentralus"},
		{"US_WEST_2", "westus2"}, {"US_WEST_3", "westus3"}, {"CANADA_EAST", "canadaeast"},
		{"CANADA_CENTRAL", "canadacentral"}, {"MEXICO_CENTRAL", "mexicocentral"},
		{"BRAZIL_SOUTH", "brazilsouth"}, {"BRAZIL_SOUTHEAST", "brazilsoutheast"},
		{"EUROPE_NORTH", "northeurope"}, {"EUROPE_WEST", "westeurope"}, {"UK_SOUTH", "uksouth"}, {"UK_WEST", "ukwest"},
		{"FRANCE_CENTRAL", "francecentral"}, {"FRANCE_SOUTH", "francesouth"},
		{"GERMANY_WEST_CENTRAL", "germanywestcentral"}, {"GERMANY_NORTH", "germanynorth"},
		{"SWEDEN_CENTRAL", "swedencentral"}, {"SWEDEN_SOUTH", "swedensouth"},
		{"SWITZERLAND_NORTH", "switzerlandnorth"}, {"SWITZERLAND_WEST", "switzerlandwest"},
		{"NORWAY_EAST", "norwayeast"}, {"NORWAY_WEST", "norwaywest"}, {"POLAND_CENTRAL", "polandcentral"},
		{"ITALY_NORTH", "italynorth"}, {"SPAIN_CENTRAL", "spaincentral"},
		{"ISRAEL_CENTRAL", "israelcentral"}, {"UAE_CENTRAL", "uaecentral"}, {"UAE_NORTH", "uaenorth"},
		{"QATAR_CENTRAL", "qatarcentral"}, {"SOUTH_AFRICA_NORTH", "southafricanorth"},
		{"SOUTH_AFRICA_WEST", "southafricawest"},
		{"INDIA_CENTRAL", "centralindia"}, {"INDIA_SOUTH", "southindia"}, {"INDIA_WEST", "westindia"},
		{"ASIA_EAST", "eastasia"}, {"ASIA_SOUTH_EAST", "southeastasia"}, {"JAPAN_EAST", "japaneast"},
		{"JAPAN_WEST", "japanwest"}, {"KOREA_CENTRAL", "koreacentral"}, {"KOREA_SOUTH", "koreasouth"},
		{"AUSTRALIA_EAST", "australiaeast"}, {"AUSTRALIA_SOUTH_EAST", "australiasoutheast"},
		{"AUSTRALIA_CENTRAL", "australiacentral"}, {"AUSTRALIA_CENTRAL_2", "australiacentral2"},
	},
}

// Known reports whether provider is an Atlas providerName.
func Known(provider string) bool { _, ok := table[provider]; return ok }

// Names lists provider's Atlas region names in table order.
func Names(provider string) []string {
	var out []string
	for _, r := range table[provider] {
		out = append(out, r.Atlas)
	}
	return out
}

// Valid reports whether name is one of provider's Atlas region names.
func Valid(provider, name string) bool {
	_, ok := CloudRegion(provider, name)
	return ok
}

// CloudRegion is the provider's id of an Atlas region (AWS, US_EAST_1:
// us-east-1).
func CloudRegion(provider, atlasName string) (string, bool) {
	i := slices.IndexFunc(table[provider], func(r Region) bool { return r.Atlas == atlasName })
	if i < 0 {
		return "", false
	}
	return table[provider][i].Cloud, true
}

// AtlasName is the Atlas name of a provider region id (GCP, us-central1:
// CENTRAL_US).
func AtlasName(provider, cloudRegion string) (string, bool) {
	i := slices.IndexFunc(table[provider], func(r Region) bool { return r.Cloud == cloudRegion })
	if i < 0 {
		return "", false
	}
	return table[provider][i].Atlas, true
}

// CloudRegions lists provider's region ids, sorted.
func CloudRegions(provider string) []string {
	var out []string
	for _, r := range table[provider] {
		out = append(out, r.Cloud)
	}
	sort.Strings(out)
	return out
}

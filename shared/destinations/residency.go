package destinations

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Zones are the residency zones a policy can require. "eu" means the
// European Union and EEA; the United Kingdom ("uk") and Switzerland ("ch")
// are zones of their own, since a policy written for the EU does not always
// admit them.
var Zones = []string{"eu", "uk", "ch", "us", "ca", "sa", "asia", "au", "me", "af"}

// Region lists, per provider, the regions Synthos knows the zone of. A
// region not listed is refused at registration with the list of known ones,
// so a policy is never checked against a guess.
var regionZones = map[string]map[string]string{
	"gs": {
		// Multi- and dual-regions.
		"eu": "eu", "eur4": "eu", "us": "us", "nam4": "us", "asia": "asia", "asia1": "asia",
		// Europe.
		"europe-west1": "eu", "europe-west3": "eu", "europe-west4": "eu", "europe-west8": "eu",
		"europe-west9": "eu", "europe-west10": "eu", "europe-west12": "eu", "europe-north1": "eu",
		"europe-north2": "eu", "europe-central2": "eu", "europe-southwest1": "eu",
		"europe-west2": "uk", "europe-west6": "ch",
		// Americas.
		"us-central1": "us", "us-east1": "us", "us-east4": "us", "us-east5": "us", "us-south1": "us",
		"us-west1": "us", "us-west2": "us", "us-west3": "us", "us-west4": "us",
		"northamerica-northeast1": "ca", "northamerica-northeast2": "ca",
		"southamerica-east1": "sa", "southamerica-west1": "sa",
		// Asia-Pacific, Middle East, Africa.
		"asia-east1": "asia", "asia-east2": "asia", "asia-northeast1": "asia", "asia-northeast2": "asia",
		"asia-northeast3": "asia", "asia-south1": "asia", "asia-south2": "asia", "asia-southeast1": "asia",
		"asia-southeast2": "asia", "australia-southeast1": "au", "australia-southeast2": "au",
		"me-west1": "me", "me-central1": "me", "me-central2": "me", "africa-south1": "af",
	},
	"s3": {
		"eu-west-1": "eu", "eu-west-3": "eu", "eu-central-1": "eu", "eu-north-1": "eu",
		"eu-south-1": "eu", "eu-south-2": "eu", "eu-west-2": "uk", "eu-central-2": "ch",
		"us-east-1": "us", "us-east-2": "us", "us-west-1": "us", "us-west-2": "us",
		"us-gov-east-1": "us", "us-gov-west-1": "us", "ca-central-1": "ca", "ca-west-1": "ca",
		"sa-east-1": "sa", "ap-east-1": "asia", "ap-northeast-1": "asia", "ap-northeast-2": "asia",
		"ap-northeast-3": "asia", "ap-south-1": "asia", "ap-south-2": "asia", "ap-southeast-1": "asia",
		"ap-southeast-3": "asia", "ap-southeast-2": "au", "ap-southeast-4": "au",
		"me-south-1": "me", "me-central-1": "me", "il-central-1": "me", "af-south-1": "af",
	},
	"azblob": {
		"westeurope": "eu", "northeurope": "eu", "francecentral": "eu", "germanywestcentral": "eu",
		"swedencentral": "eu", "italynorth": "eu", "polandcentral": "eu", "spaincentral": "eu",
		"uksouth": "uk", "ukwest": "uk", "switzerlandnorth": "ch", "switzerlandwest": "ch",
		"eastus": "us", "eastus2": "us", "westus": "us", "westus2": "us", "westus3": "us",
		"centralus": "us", "northcentralus": "us", "southcentralus": "us", "westcentralus": "us",
		"canadacentral": "ca", "canadaeast": "ca", "brazilsouth": "sa",
		"eastasia": "asia", "southeastasia": "asia", "japaneast": "asia", "japanwest": "asia",
		"koreacentral": "asia", "centralindia": "asia", "australiaeast": "au", "australiasoutheast": "au",
		"uaenorth": "me", "qatarcentral": "me", "southafricanorth": "af",
	},
}

// ZoneOf returns the residency zone of provider's region. Local stores
// (file, mem) are in zone "local", which no policy other than none admits.
func ZoneOf(provider, region string) (string, error) {
	if provider == "file" || provider == "mem" {
		return "local", nil
	}
	regions, ok := regionZones[provider]
	if !ok {
		return "", fmt.Errorf("%w: provider %q has no regions", ErrInvalid, provider)
	}
	if region == "" {
		return "", fmt.Errorf("%w: region is required (where the %s bucket lives, e.g. %s)", ErrInvalid, provider, example(provider))
	}
	z, ok := regions[strings.ToLower(region)]
	if !ok {
		known := make([]string, 0, len(regions))
		for r := range regions {
			known = append(known, r)
		}
		sort.Strings(known)
		return "", fmt.Errorf("%w: region %q is not a known %s region (known: %s)", ErrInvalid, region, provider, strings.Join(known, ", "))
	}
	return z, nil
}

func example(provider string) string {
	switch provider {
	case "gs":
		return "europe-west1"
	case "s3":
		return "eu-central-1"
	}
	return "westeurope"
}

// CheckZone reports an unknown zone name.
func CheckZone(zone string) error {
	if zone == "" || slices.Contains(Zones, zone) {
		return nil
	}
	return fmt.Errorf("%w: residency %q is not one of %s", ErrInvalid, zone, strings.Join(Zones, ", "))
}

// Placement is one place a job reads or writes.
type Placement struct {
	What     string // "input", "working copies", "output", "secondary output"
	Name     string // the destination's name, or "platform bucket"
	Provider string
	Region   string
}

// CheckResidency returns an error wrapping ErrResidency naming the first
// placement outside zone ("" requires nothing). It runs before a job is
// admitted, so a job that would leave the zone never starts.
func CheckResidency(zone string, places ...Placement) error {
	if zone == "" {
		return nil
	}
	for _, p := range places {
		if p.Region == "" && p.Provider != "file" && p.Provider != "mem" {
			return fmt.Errorf("%w: residency %s requires knowing where the %s are kept, and the region of %s is not configured",
				ErrResidency, zone, p.What, p.Name)
		}
		z, err := ZoneOf(p.Provider, p.Region)
		if err != nil {
			return fmt.Errorf("%w: %s (%s): %v", ErrResidency, p.What, p.Name, err)
		}
		if z != zone {
			return fmt.Errorf("%w: residency %s: the %s would be kept in %s (%s %s, zone %s)",
				ErrResidency, zone, p.What, p.Name, p.Provider, p.Region, z)
		}
	}
	return nil
}

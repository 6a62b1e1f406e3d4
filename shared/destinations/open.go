package destinations

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/objects"
)

// OpenOptions adjust how buckets are reached.
type OpenOptions struct {
	// HTTPClient, when set, carries the requests (tests, an egress proxy).
	HTTPClient *http.Client
	// GCSEndpoint points gs:// at an emulator (fake-gcs-server in tests);
	// destinations cannot set it themselves.
	GCSEndpoint string
}

// Open returns the bucket of d reached with c, scoped to d's prefix.
func Open(ctx context.Context, d Destination, c Credential, o OpenOptions) (*blob.Bucket, error) {
	var (
		b   *blob.Bucket
		err error
	)
	switch d.Provider() {
	case "gs":
		b, err = openGCS(ctx, d, c, o)
	case "s3":
		b, err = openS3(ctx, d, c, o)
	case "azblob":
		b, err = openAzure(ctx, d, c, o)
	case "file", "mem":
		b, err = objects.Open(ctx, d.URL)
		if err == nil {
			return b, nil // the path is the directory; no prefix
		}
	default:
		return nil, fmt.Errorf("%w: %s: unsupported provider %q", ErrInvalid, d.ID, d.Provider())
	}
	if err != nil {
		return nil, fmt.Errorf("destinations: open %s (%s): %w", d.Name, d.URL, err)
	}
	if p := d.Prefix(); p != "" {
		b = blob.PrefixedBucket(b, p)
	}
	return b, nil
}

func openGCS(ctx context.Context, d Destination, c Credential, o OpenOptions) (*blob.Bucket, error) {
	var opts []option.ClientOption
	var gopts gcsblob.Options
	if len(c.GoogleCredentialsJSON) > 0 {
		var head struct {
			Type        string `json:"type"`
			ClientEmail string `json:"client_email"`
			PrivateKey  string `json:"private_key"`
		}
		if err := json.Unmarshal(c.GoogleCredentialsJSON, &head); err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
		credType := option.ServiceAccount
		if head.Type == "external_account" {
			credType = option.ExternalAccount
		}
		// The credential was checked at registration to be one of these two
		// types; the type is named explicitly so a stored value can never
		// select another credential source.
		opts = append(opts, option.WithAuthCredentialsJSON(credType, c.GoogleCredentialsJSON))
		if head.ClientEmail != "" && head.PrivateKey != "" {
			// A service-account key signs download URLs (V4) itself.
			gopts.GoogleAccessID, gopts.PrivateKey = head.ClientEmail, []byte(head.PrivateKey)
		}
	}
	if o.GCSEndpoint != "" {
		// An emulator (tests): no authentication, reads through the JSON
		// API it serves.
		opts = []option.ClientOption{option.WithEndpoint(o.GCSEndpoint), option.WithoutAuthentication(), storage.WithJSONReads()}
		if o.HTTPClient != nil {
			opts = append(opts, option.WithHTTPClient(o.HTTPClient))
		}
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	gopts.Client = client
	return gcsblob.OpenBucket(ctx, nil, d.Bucket(), &gopts)
}

func openS3(ctx context.Context, d Destination, c Credential, o OpenOptions) (*blob.Bucket, error) {
	so := s3.Options{Region: d.Region}
	if d.Endpoint != "" {
		so.BaseEndpoint = aws.String(d.Endpoint)
		so.UsePathStyle = true // S3-compatible stores (MinIO and the like)
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	if o.HTTPClient != nil {
		so.HTTPClient = o.HTTPClient
	}
	switch {
	case c.AccessKeyID != "":
		so.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	case c.RoleARN != "":
		// Assume the tenant's role with the platform's own AWS identity.
		base, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(d.Region))
		if err != nil {
			return nil, fmt.Errorf("load the platform's AWS identity to assume %s: %w", c.RoleARN, err)
		}
		so.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), c.RoleARN,
			func(ao *stscreds.AssumeRoleOptions) {
				if c.ExternalID != "" {
					ao.ExternalID = aws.String(c.ExternalID)
				}
				ao.RoleSessionName = "synthos-" + d.ID
			}))
	default:
		so.Credentials = aws.AnonymousCredentials{}
	}
	return s3blob.OpenBucket(ctx, s3.New(so), d.Bucket(), nil)
}

func openAzure(ctx context.Context, d Destination, c Credential, o OpenOptions) (*blob.Bucket, error) {
	var copts *azblob.ClientOptions
	if o.HTTPClient != nil {
		copts = &azblob.ClientOptions{}
		copts.Transport = o.HTTPClient
	}
	var cc *container.Client
	switch {
	case c.ConnectionString != "":
		client, err := azblob.NewClientFromConnectionString(c.ConnectionString, copts)
		if err != nil {
			return nil, fmt.Errorf("credential.connection_string: %w", err)
		}
		cc = client.ServiceClient().NewContainerClient(d.Bucket())
	case c.SASURL != "":
		var ccopts *container.ClientOptions
		if copts != nil {
			ccopts = &container.ClientOptions{ClientOptions: copts.ClientOptions}
		}
		client, err := container.NewClientWithNoCredential(c.SASURL, ccopts)
		if err != nil {
			return nil, fmt.Errorf("credential.sas_url: %w", err)
		}
		cc = client
	default:
		return nil, fmt.Errorf("%w: an azblob:// destination needs a connection_string or sas_url", ErrInvalid)
	}
	return azureblob.OpenBucket(ctx, cc, nil)
}

package client_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"synthos.dev/synthos/shared/client"
)

// Upload a table, create a job with an Idempotency-Key, wait for it and
// download its output. The README shows this example; it compiles with
// every test run, and functions/cmd/synthos's remote tests run the same
// calls against a local platform.
func Example() {
	ctx := context.Background()
	api, err := client.New(os.Getenv("SYNTHOS_API"), os.Getenv("SYNTHOS_API_KEY"), client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("examples/insurance.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	ds, err := api.UploadDataset(ctx, "insurance.csv", f, st.Size(), nil)
	if err != nil {
		log.Fatal(err)
	}
	job, err := api.CreateJob(ctx, client.JobCreate{Dataset: &ds.Id, Rows: client.Ptr(1000)}, "insurance-1000")
	if client.Code(err) == "quota_exceeded" {
		log.Fatal("the plan's monthly rows are used up")
	}
	if err != nil {
		log.Fatal(err)
	}
	job, err = api.WaitJob(ctx, job.Id, client.Poll{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("job", job.Id, "is", job.State)
	out, err := os.Create("synthetic.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	if _, err := api.DownloadOutput(ctx, job.Id, out, nil); err != nil {
		log.Fatal(err)
	}
}

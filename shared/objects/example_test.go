package objects_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/objects"
)

func ExamplePut() {
	ctx := context.Background()
	b, err := objects.Open(ctx, "mem://")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	// The object appears only if the whole CSV was written.
	err = objects.Put(ctx, b, "tenant/t1/out.csv", func(w io.Writer) error {
		_, err := io.WriteString(w, "id,amount\n1,9.5\n")
		return err
	}, &blob.WriterOptions{ContentType: "text/csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := objects.CopyTo(ctx, b, "tenant/t1/out.csv", os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,amount
	// 1,9.5
}

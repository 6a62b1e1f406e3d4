package table_test

import (
	"fmt"
	"io"
	"os"
	"strings"

	"synthos.dev/synthos/shared/table"
)

// ExampleNewWriter shows formula escaping: text cells that a spreadsheet
// would run get a leading quote, while numbers in numeric columns stay raw.
func ExampleNewWriter() {
	w, err := table.NewWriter(os.Stdout, table.CSV, []table.Column{{Name: "note", Kind: table.String}, {Name: "delta", Kind: table.Int}})
	if err != nil {
		fmt.Println(err)
		return
	}
	w.Write([]string{"=HYPERLINK(\"http://evil\")", "-5"})
	w.Write([]string{"fine, with a comma", "12"})
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// note,delta
	// "'=HYPERLINK(""http://evil"")",-5
	// "fine, with a comma",12
}

// ExampleOpenReader reads a semicolon-separated stream; the delimiter is
// sniffed and the BOM dropped.
func ExampleOpenReader() {
	in := "\uFEFFname;age\nAnn;34\nBob;\n"
	r, err := table.OpenReader(strings.NewReader(in), table.CSV, table.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", r.Columns())
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q\n", row)
	}
	// Output:
	// ["name" "age"]
	// ["Ann" "34"]
	// ["Bob" ""]
}

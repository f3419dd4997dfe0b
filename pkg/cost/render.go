package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text writes the estimate as the deployment guide's table: component,
// region and monthly cost, then the total, the peak, the cost per million
// requests and the date of the prices.
func Text(w io.Writer, e *Estimate) error {
	rows := [][3]string{{"COMPONENT", "REGION", "MONTHLY"}}
	for _, l := range e.Lines {
		c := l.Component
		if l.Detail != "" {
			c += " (" + l.Detail + ")"
		}
		rows = append(rows, [3]string{c, l.Region, Money(l.Monthly)})
	}
	rows = append(rows, [3]string{"Total", "", Money(e.Total)})
	var wc, wr, wm int
	for _, r := range rows {
		wc, wr, wm = max(wc, width(r[0])), max(wr, width(r[1])), max(wm, width(r[2]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Estimated monthly cost of stack %q in %s\n\n", e.Stack, e.Currency)
	for i, r := range rows {
		if i == len(rows)-1 {
			fmt.Fprintf(&b, "%s\n", strings.Repeat("-", wc+wr+wm+4))
		}
		fmt.Fprintf(&b, "%s  %s  %s\n", pad(r[0], wc), pad(r[1], wr), strings.Repeat(" ", wm-width(r[2]))+r[2])
	}
	fmt.Fprintf(&b, "\nWith every region at its HPA maximum: %s per month.\n", Money(e.Peak))
	if e.RequestsPerDay > 0 {
		fmt.Fprintf(&b, "At %s requests per day: %s per million requests.\n", group(strconv.FormatInt(e.RequestsPerDay, 10)), perMillion(e.PerMillionRequests))
	}
	fmt.Fprintf(&b, "Prices: %s, version %d of %s. List prices, before taxes and discounts.\n", e.Prices.Source, e.Prices.Version, e.Prices.Date)
	for _, n := range e.Notes {
		fmt.Fprintf(&b, "Note: %s.\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the estimate as one indented document with format_version.
func JSON(w io.Writer, e *Estimate) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

// Money prints an amount as $1,234.56.
func Money(x float64) string {
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	s := strconv.FormatFloat(x, 'f', 2, 64)
	return sign + "$" + group(s[:len(s)-3]) + s[len(s)-3:]
}

func perMillion(x float64) string {
	if x >= 1 {
		return Money(x)
	}
	return "$" + strconv.FormatFloat(x, 'f', 4, 64)
}

// group puts thousands separators into a string of digits.
func group(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func width(s string) int { return utf8.RuneCountInString(s) }

func pad(s string, n int) string { return s + strings.Repeat(" ", n-width(s)) }

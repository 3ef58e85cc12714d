package demo

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Share is the view a link restores, in the style of TensorFlow
// Playground: the page keeps it in the URL fragment,
//
//	#model=sq-zero&target=G&crop=150,100,200,200&photo=photo/coffee.jpg
//
// Zero fields are not in the link (the app's defaults apply). Crop is
// x,y,w,h in photo pixels; crops are square, so w and h are equal.
type Share struct {
	Model  string // a Models key
	Target string // one of Targets
	Crop   *Crop
	Photo  string // a built-in photo (site path under photo/)
}

// ParseShare reads a URL fragment (with or without its '#'). Entries it
// does not know or cannot use are skipped and reported in errs, one line
// each; the rest still apply.
func ParseShare(fragment string) (s Share, errs []error) {
	q, err := url.ParseQuery(strings.TrimPrefix(fragment, "#"))
	if err != nil {
		return s, []error{fmt.Errorf("link: %v", err)}
	}
	if v := q.Get("model"); v != "" {
		if ModelIndex(v) < 0 {
			errs = append(errs, fmt.Errorf("link: model %q is not one of sq-zero, sq-none, pixels, sq-random", v))
		} else {
			s.Model = v
		}
	}
	if v := q.Get("target"); v != "" {
		if TargetNames[v] == "" {
			errs = append(errs, fmt.Errorf("link: target %q is not one of H, V, G, HS, VS", v))
		} else {
			s.Target = v
		}
	}
	if v := q.Get("crop"); v != "" {
		c, err := parseCrop(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("link: crop %q: %v", v, err))
		} else {
			s.Crop = &c
		}
	}
	if v := q.Get("photo"); v != "" {
		if !BuiltinPhoto(v) {
			errs = append(errs, fmt.Errorf("link: photo %q is not a built-in photo (photo/NAME.png or .jpg)", v))
		} else {
			s.Photo = v
		}
	}
	return s, errs
}

func parseCrop(v string) (Crop, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return Crop{}, fmt.Errorf("want x,y,w,h")
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return Crop{}, fmt.Errorf("%q is not a number", p)
		}
		f[i] = x
	}
	if f[2] <= 0 || f[3] <= 0 {
		return Crop{}, fmt.Errorf("the side must be positive")
	}
	if math.Abs(f[2]-f[3]) > 0.5 {
		return Crop{}, fmt.Errorf("the crop is square: w and h must be equal")
	}
	return Crop{X: f[0], Y: f[1], Size: f[2]}, nil
}

// BuiltinPhoto reports whether path names a photo shipped with the site:
// photo/NAME.png or photo/NAME.jpg, one level, no dot-dot.
func BuiltinPhoto(path string) bool {
	name, ok := strings.CutPrefix(path, "photo/")
	if !ok || name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return false
	}
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, ".png") || strings.HasSuffix(lower, ".jpg") || strings.HasSuffix(lower, ".jpeg")
}

// Encode writes s as a URL fragment (without '#'), in a fixed order.
func (s Share) Encode() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+url.QueryEscape(v)) }
	if s.Model != "" {
		add("model", s.Model)
	}
	if s.Target != "" {
		add("target", s.Target)
	}
	if s.Crop != nil {
		n := func(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }
		c := *s.Crop
		parts = append(parts, "crop="+n(c.X)+","+n(c.Y)+","+n(c.Size)+","+n(c.Size))
	}
	if s.Photo != "" {
		parts = append(parts, "photo="+strings.ReplaceAll(url.QueryEscape(s.Photo), "%2F", "/"))
	}
	return strings.Join(parts, "&")
}

package weights

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"path/filepath"
)

// tfjsModel is the part of a TensorFlow.js model.json that locates weights.
type tfjsModel struct {
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string `json:"name"`
			Shape        []int  `json:"shape"`
			Dtype        string `json:"dtype"`
			Quantization *struct {
				Dtype string   `json:"dtype"`
				Scale *float64 `json:"scale"`
				Min   *float64 `json:"min"`
			} `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

// LoadTFJS reads a TensorFlow.js layers model: model.json and the weight
// shards it lists. Tensors are keyed by their manifest names and keep the
// TF.js layout (conv kernels HWIO, NHWC).
func LoadTFJS(modelJSON string) (*Set, error) {
	dir, name := filepath.Split(modelJSON)
	if dir == "" {
		dir = "."
	}
	return ReadTFJSFS(dirFS(dir), name, modelJSON)
}

// ReadTFJSFS is LoadTFJS on a file system; shard paths are relative to the
// folder of name. source names model.json in errors.
func ReadTFJSFS(fsys fs.FS, name, source string) (*Set, error) {
	m, err := readTFJSModel(fsys, name, source)
	if err != nil {
		return nil, err
	}
	if len(m.WeightsManifest) == 0 {
		return nil, fmt.Errorf("%s: no weightsManifest", source)
	}
	dir := path.Dir(name)
	s := NewSet(source)
	for gi, g := range m.WeightsManifest {
		if len(g.Paths) == 0 {
			return nil, fmt.Errorf("%s: weight group %d lists no shard paths", source, gi)
		}
		var buf []byte
		for _, p := range g.Paths {
			sp := path.Join(dir, p)
			if !fs.ValidPath(path.Clean(p)) || !fs.ValidPath(sp) {
				return nil, fmt.Errorf("%s: shard path %q leaves the model folder", source, p)
			}
			b, err := fs.ReadFile(fsys, sp)
			if err != nil {
				return nil, fmt.Errorf("%s: weight group %d: %w", source, gi, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			if w.Name == "" {
				return nil, fmt.Errorf("%s: weight group %d has a weight without a name", source, gi)
			}
			if s.Has(w.Name) {
				return nil, fmt.Errorf("%s: weight %q listed twice", source, w.Name)
			}
			n, err := numel(w.Shape, len(buf))
			if err != nil {
				return nil, fmt.Errorf("%s: weight %q: %w", source, w.Name, err)
			}
			size, decode, err := tfjsDecoder(w.Dtype, w.Quantization)
			if err != nil {
				return nil, fmt.Errorf("%s: weight %q: %w", source, w.Name, err)
			}
			if n*size > len(buf)-off {
				return nil, fmt.Errorf("%s: weight %q %v needs %d bytes at offset %d, shards of group %d have %d",
					source, w.Name, w.Shape, n*size, off, gi, len(buf))
			}
			data := make([]float32, n)
			for i := range data {
				data[i] = decode(buf[off+i*size:])
			}
			off += n * size
			s.Add(w.Name, newTensor(w.Shape, data))
		}
		if off != len(buf) {
			return nil, fmt.Errorf("%s: weight group %d: weights use %d bytes, shards have %d", source, gi, off, len(buf))
		}
	}
	return s, nil
}

// tfjsDecoder returns the stored element size and its conversion to float32.
func tfjsDecoder(dtype string, q *struct {
	Dtype string   `json:"dtype"`
	Scale *float64 `json:"scale"`
	Min   *float64 `json:"min"`
}) (int, func([]byte) float32, error) {
	if q != nil {
		if dtype != "float32" {
			return 0, nil, fmt.Errorf("quantised dtype %q not supported (want float32)", dtype)
		}
		switch q.Dtype {
		case "float16":
			return 2, func(b []byte) float32 { return HalfToFloat(binary.LittleEndian.Uint16(b)) }, nil
		case "uint8", "uint16":
			if q.Scale == nil || q.Min == nil {
				return 0, nil, fmt.Errorf("%s quantisation without scale and min", q.Dtype)
			}
			scale, min := *q.Scale, *q.Min
			if q.Dtype == "uint8" {
				return 1, func(b []byte) float32 { return float32(float64(b[0])*scale + min) }, nil
			}
			return 2, func(b []byte) float32 {
				return float32(float64(binary.LittleEndian.Uint16(b))*scale + min)
			}, nil
		}
		return 0, nil, fmt.Errorf("quantisation dtype %q not supported", q.Dtype)
	}
	switch dtype {
	case "float32":
		return 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }, nil
	case "int32":
		return 4, func(b []byte) float32 { return float32(int32(binary.LittleEndian.Uint32(b))) }, nil
	}
	return 0, nil, fmt.Errorf("dtype %q not supported (want float32)", dtype)
}

func readTFJSModel(fsys fs.FS, name, source string) (*tfjsModel, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var m tfjsModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a TF.js model.json: %w", source, err)
	}
	return &m, nil
}

// ReadTFJSTopology returns the modelTopology object of a TF.js model.json.
func ReadTFJSTopology(modelJSON string) (json.RawMessage, error) {
	dir, name := filepath.Split(modelJSON)
	if dir == "" {
		dir = "."
	}
	m, err := readTFJSModel(dirFS(dir), name, modelJSON)
	if err != nil {
		return nil, err
	}
	if len(m.ModelTopology) == 0 || string(m.ModelTopology) == "null" {
		return nil, errors.New(modelJSON + ": no modelTopology")
	}
	return m.ModelTopology, nil
}

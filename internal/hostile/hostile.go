// Package hostile builds malformed and oversized inputs for the tests that
// check posprobe refuses them cleanly: image headers declaring huge sizes,
// truncated files.
package hostile

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// Small returns a w x h PNG, JPEG or GIF ("png", "jpeg", "gif") of a
// gradient: a valid image to patch or truncate.
func Small(format string, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), uint8(x + y), 255})
		}
	}
	var b bytes.Buffer
	switch format {
	case "png":
		png.Encode(&b, img)
	case "jpeg":
		jpeg.Encode(&b, img, nil)
	case "gif":
		gif.Encode(&b, img, nil)
	default:
		panic("hostile.Small: unknown format " + format)
	}
	return b.Bytes()
}

// Bomb returns a small image file of the given format whose header declares
// w x h pixels (each at most 65535 for JPEG and GIF, whose headers hold 16
// bits); its pixel data is that of a 16x16 image, so decoding fails late or
// allocates w*h pixels first.
func Bomb(format string, w, h int) []byte {
	b := Small(format, 16, 16)
	switch format {
	case "png":
		// IHDR: 8-byte signature, length, "IHDR", width, height, ..., CRC.
		binary.BigEndian.PutUint32(b[16:], uint32(w))
		binary.BigEndian.PutUint32(b[20:], uint32(h))
		binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	case "jpeg":
		// SOF0 (FF C0): length(2) precision(1) height(2) width(2).
		i := bytes.Index(b, []byte{0xff, 0xc0})
		binary.BigEndian.PutUint16(b[i+5:], uint16(h))
		binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	case "gif":
		// Logical screen, then the first image descriptor (0x2C).
		binary.LittleEndian.PutUint16(b[6:], uint16(w))
		binary.LittleEndian.PutUint16(b[8:], uint16(h))
		i := 13
		if b[10]&0x80 != 0 {
			i += 3 << (b[10]&7 + 1) // global colour table
		}
		for b[i] == 0x21 { // extension blocks
			i += 2
			for b[i] != 0 {
				i += int(b[i]) + 1
			}
			i++
		}
		binary.LittleEndian.PutUint16(b[i+5:], uint16(w))
		binary.LittleEndian.PutUint16(b[i+7:], uint16(h))
	}
	return b
}

// Refused reports whether err is set, failing t when the error does not name
// source: an error on bad input says which file it is about.
func Refused(t testing.TB, err error, source string) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if !strings.Contains(err.Error(), source) {
		t.Fatalf("error does not name %s: %v", source, err)
	}
	return true
}

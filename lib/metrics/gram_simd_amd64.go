//go:build goexperiment.simd && amd64

package metrics

import "simd/archsimd"

// SIMD micro-kernels for gramTile (see gram.go), chosen at init from the CPU's features:
// AVX-512 (6 rows × 2 Float32x16 accumulators) or AVX2+FMA (4 rows × 4 Float32x8). Each step k
// loads one panel row (32 floats of B) and broadcasts A[r][k] into a fused multiply-add.

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		k := gramKernel{"avx2", 4, microKernelAVX2}
		availableKernels = append(availableKernels, k)
		useKernel(k)
	}
	if archsimd.X86.AVX512() {
		k := gramKernel{"avx512", 6, microKernelAVX512}
		availableKernels = append(availableKernels, k)
		useKernel(k)
	}
}

func microKernelAVX512(a []float32, rows, d int, panel []float32, out []float32, ldo int) {
	if rows == 6 {
		microKernelAVX512x6(a, d, panel, out, ldo)
		archsimd.ClearAVXUpperBits()
		return
	}
	for r := 0; r < rows; r++ {
		row := a[r*d : (r+1)*d]
		c0 := archsimd.BroadcastFloat32x16(0)
		c1 := c0
		for k, av := range row {
			p := panel[k*panelWidth : (k+1)*panelWidth]
			x := archsimd.BroadcastFloat32x16(av)
			c0 = archsimd.LoadFloat32x16((*[16]float32)(p[0:16])).MulAdd(x, c0)
			c1 = archsimd.LoadFloat32x16((*[16]float32)(p[16:32])).MulAdd(x, c1)
		}
		o := out[r*ldo : r*ldo+panelWidth]
		c0.Store((*[16]float32)(o[0:16]))
		c1.Store((*[16]float32)(o[16:32]))
	}
	archsimd.ClearAVXUpperBits()
}

func microKernelAVX512x6(a []float32, d int, panel []float32, out []float32, ldo int) {
	// Go's register allocator uses 16 vector registers: 6 rows × 2 accumulators + 2 loads + 1
	// broadcast fit without spills.
	a0, a1, a2, a3, a4, a5 := a[0*d:1*d], a[1*d:2*d], a[2*d:3*d], a[3*d:4*d], a[4*d:5*d], a[5*d:6*d]
	z := archsimd.BroadcastFloat32x16(0)
	c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 := z, z, z, z, z, z, z, z, z, z, z, z
	panel = panel[:d*panelWidth]
	for k := 0; k < d; k++ {
		p := panel[k*panelWidth : k*panelWidth+panelWidth]
		b0 := archsimd.LoadFloat32x16((*[16]float32)(p[0:16]))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(p[16:32]))
		x := archsimd.BroadcastFloat32x16(a0[k])
		c00, c01 = b0.MulAdd(x, c00), x.MulAdd(b1, c01)
		x = archsimd.BroadcastFloat32x16(a1[k])
		c10, c11 = b0.MulAdd(x, c10), x.MulAdd(b1, c11)
		x = archsimd.BroadcastFloat32x16(a2[k])
		c20, c21 = b0.MulAdd(x, c20), x.MulAdd(b1, c21)
		x = archsimd.BroadcastFloat32x16(a3[k])
		c30, c31 = b0.MulAdd(x, c30), x.MulAdd(b1, c31)
		x = archsimd.BroadcastFloat32x16(a4[k])
		c40, c41 = b0.MulAdd(x, c40), x.MulAdd(b1, c41)
		x = archsimd.BroadcastFloat32x16(a5[k])
		c50, c51 = b0.MulAdd(x, c50), x.MulAdd(b1, c51)
	}
	store16x2(out[0*ldo:], c00, c01)
	store16x2(out[1*ldo:], c10, c11)
	store16x2(out[2*ldo:], c20, c21)
	store16x2(out[3*ldo:], c30, c31)
	store16x2(out[4*ldo:], c40, c41)
	store16x2(out[5*ldo:], c50, c51)
}

func store16x2(o []float32, c0, c1 archsimd.Float32x16) {
	c0.Store((*[16]float32)(o[0:16]))
	c1.Store((*[16]float32)(o[16:32]))
}

func microKernelAVX2(a []float32, rows, d int, panel []float32, out []float32, ldo int) {
	if rows == 4 {
		microKernelAVX2x4(a, d, panel, out, ldo)
		archsimd.ClearAVXUpperBits()
		return
	}
	for r := 0; r < rows; r++ {
		row := a[r*d : (r+1)*d]
		c0 := archsimd.BroadcastFloat32x8(0)
		c1, c2, c3 := c0, c0, c0
		for k, av := range row {
			p := panel[k*panelWidth : (k+1)*panelWidth]
			x := archsimd.BroadcastFloat32x8(av)
			c0 = archsimd.LoadFloat32x8((*[8]float32)(p[0:8])).MulAdd(x, c0)
			c1 = archsimd.LoadFloat32x8((*[8]float32)(p[8:16])).MulAdd(x, c1)
			c2 = archsimd.LoadFloat32x8((*[8]float32)(p[16:24])).MulAdd(x, c2)
			c3 = archsimd.LoadFloat32x8((*[8]float32)(p[24:32])).MulAdd(x, c3)
		}
		store8x4(out[r*ldo:], c0, c1, c2, c3)
	}
	archsimd.ClearAVXUpperBits()
}

func microKernelAVX2x4(a []float32, d int, panel []float32, out []float32, ldo int) {
	// 4 rows × 32 columns = 16 accumulators would use every YMM register; do the panel in two
	// halves of 16 columns (8 accumulators, 2 loads, 1 broadcast each step).
	a0, a1, a2, a3 := a[0*d:1*d], a[1*d:2*d], a[2*d:3*d], a[3*d:4*d]
	panel = panel[:d*panelWidth]
	for h := 0; h < panelWidth; h += 16 {
		z := archsimd.BroadcastFloat32x8(0)
		c00, c01, c10, c11, c20, c21, c30, c31 := z, z, z, z, z, z, z, z
		for k := 0; k < d; k++ {
			p := panel[k*panelWidth+h : k*panelWidth+h+16]
			b0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
			b1 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
			x := archsimd.BroadcastFloat32x8(a0[k])
			c00, c01 = b0.MulAdd(x, c00), x.MulAdd(b1, c01)
			x = archsimd.BroadcastFloat32x8(a1[k])
			c10, c11 = b0.MulAdd(x, c10), x.MulAdd(b1, c11)
			x = archsimd.BroadcastFloat32x8(a2[k])
			c20, c21 = b0.MulAdd(x, c20), x.MulAdd(b1, c21)
			x = archsimd.BroadcastFloat32x8(a3[k])
			c30, c31 = b0.MulAdd(x, c30), x.MulAdd(b1, c31)
		}
		store8x2(out[0*ldo+h:], c00, c01)
		store8x2(out[1*ldo+h:], c10, c11)
		store8x2(out[2*ldo+h:], c20, c21)
		store8x2(out[3*ldo+h:], c30, c31)
	}
}

func store8x2(o []float32, c0, c1 archsimd.Float32x8) {
	c0.Store((*[8]float32)(o[0:8]))
	c1.Store((*[8]float32)(o[8:16]))
}

func store8x4(o []float32, c0, c1, c2, c3 archsimd.Float32x8) {
	c0.Store((*[8]float32)(o[0:8]))
	c1.Store((*[8]float32)(o[8:16]))
	c2.Store((*[8]float32)(o[16:24]))
	c3.Store((*[8]float32)(o[24:32]))
}

// The GGUF block formats of op_table.def's TL_QUANT, read exactly as the `gguf` package's quants.py
// defines them (little-endian fields, values in the order of the row). Every format is decoded into one
// shape: small integers q (int8) in sub-blocks of `sub` weights, each sub-block with a scale and an
// offset, weight = scale * q - offset in f32: the same values as gguf's numpy dequantisation (scale * q is
// exact in f32, so computing it fused or not, it rounds nowhere), so a dequantised weight is bit-identical.
// The functions compile as C++ (the CPU backend) and as CUDA host-device code (cuda/quantized.cu).
#pragma once
#include <cstdint>

#include "portable.h"
#include "tensorlogic/dtype.h"
#include "tensorlogic/op_enums.h"
#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

namespace tensorlogic::kernels {

// The largest block (Q4_K, Q6_K) and the most sub-blocks in one (Q6_K: 16 of 16).
constexpr int kQuantMaxBlock = 256;
constexpr int kQuantMaxSubs = 16;

// Weights per sub-block of `type` (the span of one scale).
TL_FN constexpr int quant_sub_elems(QuantType type) { return type == QuantType::q6_k ? 16 : 32; }

TL_FN float f16_at(const uint8_t* p) {
  const auto bits = static_cast<uint16_t>(p[0] | (p[1] << 8));
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(bits));
#else
  return f16_bits_to_f32(bits);
#endif
}

// The scale and offset of each sub-block of one block.
TL_FN void decode_scales(QuantType type, const uint8_t* b, float* scale, float* offset) {
  switch (type) {
    case QuantType::q8_0:  // d, qs[32]
    case QuantType::q4_0:  // d, qs[16]
      scale[0] = f16_at(b);
      offset[0] = 0.0f;
      return;
    case QuantType::q4_k: {  // d, dmin, scales[12] (6-bit scale and min of 8 sub-blocks), qs[128]
      const float d = f16_at(b), dmin = f16_at(b + 2);
      const uint8_t* s = b + 4;
      for (int j = 0; j < 4; ++j) {
        // bytes 0-3: scales 0-3 (low 6 bits); 4-7: mins 0-3; 8-11: low nibbles of scales 4-7, high nibbles
        // of mins 4-7, whose top 2 bits are the top bits of bytes 0-3 and 4-7.
        scale[j] = d * static_cast<float>(s[j] & 0x3F);
        offset[j] = dmin * static_cast<float>(s[4 + j] & 0x3F);
        scale[4 + j] = d * static_cast<float>((s[8 + j] & 0x0F) | ((s[j] >> 2) & 0x30));
        offset[4 + j] = dmin * static_cast<float>((s[8 + j] >> 4) | ((s[4 + j] >> 2) & 0x30));
      }
      return;
    }
    case QuantType::q6_k: {  // ql[128], qh[64], scales[16] (int8, one per 16 weights), d
      const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
      const float d = f16_at(b + 208);
      for (int s = 0; s < 16; ++s) {
        scale[s] = d * static_cast<float>(sc[s]);
        offset[s] = 0.0f;
      }
      return;
    }
  }
}

// The integers of one block, q[quant_block_elems(type)]: for Q8_0 a pointer into the block itself (its
// values are stored as int8 already), else `buffer`, filled.
TL_FN const int8_t* decode_values(QuantType type, const uint8_t* b, int8_t* buffer) {
  switch (type) {
    case QuantType::q8_0:
      return reinterpret_cast<const int8_t*>(b + 2);
    case QuantType::q4_0: {  // weight i < 16 is the low nibble of qs[i], weight 16 + i its high one; offset by 8
      const uint8_t* qs = b + 2;
      for (int i = 0; i < 16; ++i) {
        buffer[i] = static_cast<int8_t>((qs[i] & 0x0F) - 8);
        buffer[16 + i] = static_cast<int8_t>((qs[i] >> 4) - 8);
      }
      return buffer;
    }
    case QuantType::q4_k: {  // 32 bytes per 64 weights: low nibbles are sub-block 2j, high nibbles 2j + 1
      const uint8_t* qs = b + 16;
      for (int j = 0; j < 4; ++j) {
        for (int l = 0; l < 32; ++l) {
          buffer[64 * j + l] = static_cast<int8_t>(qs[32 * j + l] & 0x0F);
          buffer[64 * j + 32 + l] = static_cast<int8_t>(qs[32 * j + l] >> 4);
        }
      }
      return buffer;
    }
    case QuantType::q6_k: {
      // Two halves of 128 weights; weight 32 t + l of half h (t < 4, l < 32) takes its low 4 bits from
      // ql[64 h + 32 (t % 2) + l] (the low nibble for t < 2, the high one after) and its high 2 bits from
      // bits 2t and 2t + 1 of qh[32 h + l]; stored offset by 32.
      const uint8_t *ql = b, *qh = b + 128;
      for (int h = 0; h < 2; ++h) {
        for (int t = 0; t < 4; ++t) {
          for (int l = 0; l < 32; ++l) {
            const int low = (ql[64 * h + 32 * (t & 1) + l] >> (4 * (t >> 1))) & 0x0F;
            const int high = (qh[32 * h + l] >> (2 * t)) & 0x03;
            buffer[128 * h + 32 * t + l] = static_cast<int8_t>((low | (high << 4)) - 32);
          }
        }
      }
      return buffer;
    }
  }
  return buffer;
}

}  // namespace tensorlogic::kernels

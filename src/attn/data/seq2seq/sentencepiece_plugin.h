// The C interface of attn's sentencepiece plugin (libattn_sentencepiece.so).
//
// Why a plugin: Debian's libsentencepiece carries its own copy of protobuf 3.14 and exports
// its symbols, while LibTorch needs the system protobuf 3.21. Linked into one program, each
// resolves some of the other's symbols and the program crashes at start-up or refuses the
// version. attn therefore loads sentencepiece with dlopen(RTLD_LOCAL | RTLD_DEEPBIND), so it
// binds to its own protobuf and the rest of the program never sees it.
//
// Every function returning char* returns NULL on success, or an error message the caller frees
// with attn_spm_free.
#pragma once

#include <stddef.h>

extern "C" {

struct attn_spm;  // a loaded model

/// Trains a model on `count` sentences; `args` holds "key=value" lines (sentencepiece's trainer
/// flags). The serialized model goes to *model (free it with attn_spm_free).
typedef char* (*attn_spm_train_fn)(const char* const* sentences, const size_t* lengths, size_t count,
                                   const char* args, char** model, size_t* model_len);
typedef char* (*attn_spm_load_fn)(const char* model, size_t model_len, attn_spm** out);
typedef void (*attn_spm_release_fn)(attn_spm* spm);
/// Number of pieces, and the ids of <unk>, <pad>, <s>, </s>.
typedef int (*attn_spm_info_fn)(const attn_spm* spm, int* unk, int* pad, int* bos, int* eos);
/// Ids of a text (free *ids with attn_spm_free).
typedef char* (*attn_spm_encode_fn)(const attn_spm* spm, const char* text, size_t len, int** ids, size_t* count);
/// Text of ids (free *text with attn_spm_free).
typedef char* (*attn_spm_decode_fn)(const attn_spm* spm, const int* ids, size_t count, char** text, size_t* len);
/// The piece of an id, as sentencepiece writes it ("\u2581Hund"; free *piece with attn_spm_free).
typedef char* (*attn_spm_piece_fn)(const attn_spm* spm, int id, char** piece, size_t* len);
typedef void (*attn_spm_free_fn)(void* p);

char* attn_spm_train(const char* const* sentences, const size_t* lengths, size_t count, const char* args,
                     char** model, size_t* model_len);
char* attn_spm_load(const char* model, size_t model_len, attn_spm** out);
void attn_spm_release(attn_spm* spm);
int attn_spm_info(const attn_spm* spm, int* unk, int* pad, int* bos, int* eos);
char* attn_spm_encode(const attn_spm* spm, const char* text, size_t len, int** ids, size_t* count);
char* attn_spm_decode(const attn_spm* spm, const int* ids, size_t count, char** text, size_t* len);
char* attn_spm_piece(const attn_spm* spm, int id, char** piece, size_t* len);
void attn_spm_free(void* p);

}  // extern "C"

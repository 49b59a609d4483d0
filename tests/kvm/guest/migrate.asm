; SPDX-License-Identifier: MIT
;
; migrate.asm: the guest of the migration test (tests/kvm/test_kvm_migrate.c).
; A 4 KiB ROM mapped at 0xFFFFF000 (reset vector in its last 16 bytes). It
; enters 32-bit protected mode (no paging, no stack) and scribbles a log
; over its RAM for ever, while the host migrates it back and forth:
;
;   record k (k = 0, 1, 2, ...) goes to slot p = (k * STRIDE) mod NSLOTS,
;   64 bytes at LOG + 64 * p, so consecutive records land on pages far
;   apart; a record is four dwords: k, f(k), not k, f(k) xor its address,
;   where f(k) = (k * 0x9E3779B1) xor ((k * 0x9E3779B1) >> 15);
;   after each record, HEAD = k + 1. k lives in ebx.
;
; When the host sets CMD (a dword in RAM) the guest checks its own log:
; the last min(k, NSLOTS) records must all be in place and intact (each
; slot holds the latest record that maps to it), and HEAD must equal k.
; It reports the first bad record (out ERR_IDX, 4 bytes), clears CMD, then
; reports the number of bad ones (out RESULT, 4 bytes: 0 means everything
; is there) and goes on scribbling. Every 1024 records it reports k (out
; PROGRESS, 4 bytes).
;
; Guest ring-0 code is emulated under kvm_pvm (about a million
; instructions a second): about twenty instructions a record.
;
; Build (in this folder, for rom4k_tail.inc): nasm -f bin -o migrate.bin migrate.asm

%define ROMBASE   0xFFFFF000
%define CMD       0x500             ; dword, set by the host
%define HEAD      0x504             ; dword: records written
%define LOG       0x10000           ; NSLOTS slots of 64 bytes
%define NSLOTS    4096
%define STRIDE    2533              ; odd: k -> slot is one-to-one per NSLOTS
%define MULT      0x9E3779B1

%define PROGRESS  0xf0
%define RESULT    0xf4
%define ERR_IDX   0xf8

        org ROMBASE
        bits 32

main:   xor ebx, ebx
        mov dword [HEAD], 0

next:   cmp dword [CMD], 0
        jne verify
        mov eax, ebx                    ; edi: the slot of record ebx
        imul eax, eax, STRIDE
        and eax, NSLOTS - 1
        shl eax, 6
        lea edi, [eax + LOG]
        mov eax, ebx                    ; eax: f(ebx)
        imul eax, eax, MULT
        mov ecx, eax
        shr ecx, 15
        xor eax, ecx
        mov [edi], ebx
        mov [edi + 4], eax
        mov ecx, ebx
        not ecx
        mov [edi + 8], ecx
        xor eax, edi
        mov [edi + 12], eax
        inc ebx
        mov [HEAD], ebx
        test ebx, 0x3ff
        jnz next
        mov eax, ebx
        out PROGRESS, eax
        jmp next

;------------------------------------------------------------------ check
verify: xor ebp, ebp                    ; ebp: bad records
        mov esi, ebx                    ; esi: first record still in place
        sub esi, NSLOTS
        jae .loop
        xor esi, esi
.loop:  cmp esi, ebx
        jae .head
        mov eax, esi
        imul eax, eax, STRIDE
        and eax, NSLOTS - 1
        shl eax, 6
        lea edi, [eax + LOG]
        mov eax, esi
        imul eax, eax, MULT
        mov ecx, eax
        shr ecx, 15
        xor eax, ecx
        cmp [edi], esi
        jne .bad
        cmp [edi + 4], eax
        jne .bad
        mov ecx, esi
        not ecx
        cmp [edi + 8], ecx
        jne .bad
        xor eax, edi
        cmp [edi + 12], eax
        je .good
.bad:   test ebp, ebp
        jnz .more
        mov eax, esi
        out ERR_IDX, eax
.more:  inc ebp
.good:  inc esi
        jmp .loop
.head:  cmp [HEAD], ebx
        je .report
        test ebp, ebp
        jnz .hbad
        mov eax, 0xffffffff             ; ERR_IDX of a wrong HEAD
        out ERR_IDX, eax
.hbad:  inc ebp
.report:
        ; CMD is cleared before RESULT goes out: once the host has the
        ; result it may stop this vCPU (for the next migration) right after
        ; the OUT, and a clear still to come would then run first thing on
        ; the destination, erasing the host's next request.
        mov dword [CMD], 0
        mov eax, ebp
        out RESULT, eax
        jmp next

%include "rom4k_tail.inc"

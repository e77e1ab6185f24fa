import { describe, expect, it } from 'vitest';
import { acceptedUploadType, attachmentDisposition, safeFileName, servedContentType, sniffContentType } from './files';

const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(16)]);
const pdf = Buffer.from('%PDF-1.7\n...');
const html = Buffer.from('<html><script>alert(1)</script></html>');
const exe = Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00]);

describe('files', () => {
  it('knows files by their bytes', () => {
    expect(sniffContentType(png)).toBe('image/png');
    expect(sniffContentType(pdf)).toBe('application/pdf');
    expect(sniffContentType(Buffer.from('hello\nworld'))).toBe('text/plain');
    expect(sniffContentType(exe)).toBeUndefined();
    expect(sniffContentType(Buffer.from([0xc3, 0x28]))).toBeUndefined();
  });

  it('serves the claimed type only when the bytes bear it out', () => {
    expect(servedContentType('image/png', png)).toBe('image/png');
    expect(servedContentType('IMAGE/PNG; name=x', png)).toBe('image/png');
    expect(servedContentType('image/png', html)).toBe('application/octet-stream');
    expect(servedContentType('text/html', html)).toBe('application/octet-stream');
    expect(servedContentType('text/plain', html)).toBe('text/plain; charset=utf-8');
    expect(servedContentType('application/pdf', exe)).toBe('application/octet-stream');
  });

  it('accepts uploads of allowed types whose claim agrees with the bytes', () => {
    expect(acceptedUploadType('image/png', png)).toBe('image/png');
    expect(acceptedUploadType('', pdf)).toBe('application/pdf');
    expect(acceptedUploadType('application/octet-stream', png)).toBe('image/png');
    expect(acceptedUploadType('image/jpeg', png)).toBeUndefined();
    expect(acceptedUploadType('application/x-msdownload', exe)).toBeUndefined();
    expect(acceptedUploadType('text/plain', png, ['text/plain'])).toBeUndefined();
  });

  it('encodes the file name for Content-Disposition without letting it break out', () => {
    expect(attachmentDisposition('Rechnung März.pdf')).toBe(`attachment; filename="Rechnung M_rz.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf`);
    expect(attachmentDisposition('a"b.txt')).toBe(`attachment; filename="a_b.txt"; filename*=UTF-8''a%22b.txt`);
    expect(attachmentDisposition('C:\\Users\\x\\a.txt')).toBe(`attachment; filename="a.txt"; filename*=UTF-8''a.txt`);
    expect(attachmentDisposition('x\r\nSet-Cookie: y')).toBe(`attachment; filename="xSet-Cookie: y"; filename*=UTF-8''xSet-Cookie%3A%20y`);
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..')).toBe('attachment');
    expect(safeFileName("it's (1).txt")).toBe("it's (1).txt");
    expect(attachmentDisposition("it's (1).txt")).toContain("filename*=UTF-8''it%27s%20%281%29.txt");
  });
});

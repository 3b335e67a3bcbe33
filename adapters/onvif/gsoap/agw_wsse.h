/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal WS-Security header for soapcpp2: only what an ONVIF UsernameToken with PasswordDigest
 * needs. The stock wsse.h drags in SAML and turns every xsd__dateTime into struct timeval. */

//gsoap wsse schema namespace: http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd
//gsoap wsse schema elementForm: qualified
//gsoap wsse schema attributeForm: unqualified
//gsoap wsu schema namespace: http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd
//gsoap wsu schema elementForm: qualified
//gsoap wsu schema attributeForm: qualified

/* <wsse:Password Type="...#PasswordDigest">base64</wsse:Password> */
struct wsse__PasswordString {
	char *__item;
	@char *Type;
};

/* <wsse:Nonce EncodingType="...#Base64Binary">base64</wsse:Nonce> */
struct wsse__EncodedString {
	char *__item;
	@char *EncodingType;
};

struct _wsse__UsernameToken {
	char *Username;
	struct wsse__PasswordString *Password;
	struct wsse__EncodedString *Nonce;
	char *wsu__Created;
	@char *wsu__Id;
};

struct _wsse__Security {
	struct _wsse__UsernameToken *UsernameToken;
};

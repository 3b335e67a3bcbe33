/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gSOAP interface header of the ONVIF client: only the operations and types the gateway uses.
 * soapcpp2 -c reads it at build time (adapters/onvif/CMakeLists.txt); nothing generated is
 * committed. Everything is optional and every date/duration/boolean is kept as text on purpose:
 * cameras send placeholders and odd spellings, and a strict type would reject the whole response
 * where the gateway only wants to read what it can. Unknown elements are skipped by gSOAP. */

#import "soap12.h"
#import "wsa5.h"
#import "agw_wsse.h"

//gsoap tt schema namespace: http://www.onvif.org/ver10/schema
//gsoap tt schema elementForm: qualified
//gsoap tt schema attributeForm: unqualified
//gsoap tds schema namespace: http://www.onvif.org/ver10/device/wsdl
//gsoap tds schema elementForm: qualified
//gsoap tds schema attributeForm: unqualified
//gsoap tev schema namespace: http://www.onvif.org/ver10/events/wsdl
//gsoap tev schema elementForm: qualified
//gsoap tev schema attributeForm: unqualified
//gsoap trt schema namespace: http://www.onvif.org/ver10/media/wsdl
//gsoap trt schema elementForm: qualified
//gsoap trt schema attributeForm: unqualified
//gsoap wsnt schema namespace: http://docs.oasis-open.org/wsn/b-2
//gsoap wsnt schema elementForm: qualified
//gsoap wsnt schema attributeForm: unqualified
//gsoap wstop schema namespace: http://docs.oasis-open.org/wsn/t-1
//gsoap wstop schema elementForm: qualified
//gsoap wstop schema attributeForm: unqualified
//gsoap ter schema namespace: http://www.onvif.org/ver10/error
//gsoap tns1 schema namespace: http://www.onvif.org/ver10/topics

typedef char *xsd__string;
typedef char *xsd__anyURI;
typedef char *xsd__dateTime; /* kept as text: placeholders must not fail a response */
typedef char *xsd__duration;
typedef char *xsd__boolean;  /* true/false/1/0 read by the caller */
typedef char *xsd__int;

/* The SOAP header: WS-Addressing (wsa5.h) plus WS-Security, plus literal XML: the
 * ReferenceParameters of a subscription reference, echoed on every call to it (Axis identifies
 * subscriptions by them). */
mutable struct SOAP_ENV__Header {
	mustUnderstand struct _wsse__Security *wsse__Security 0;
	$int __size_ref;
	_XML *__any;
};

/******************************************************************************\
 * tt: schema types
\******************************************************************************/

struct tt__Time {
	xsd__int Hour 0;
	xsd__int Minute 0;
	xsd__int Second 0;
};

struct tt__Date {
	xsd__int Year 0;
	xsd__int Month 0;
	xsd__int Day 0;
};

struct tt__DateTime {
	struct tt__Time *Time 0;
	struct tt__Date *Date 0;
};

struct tt__TimeZone {
	xsd__string TZ 0;
};

struct tt__SystemDateTime {
	xsd__string DateTimeType 0;
	xsd__boolean DaylightSavings 0;
	struct tt__TimeZone *TimeZone 0;
	struct tt__DateTime *UTCDateTime 0;
	struct tt__DateTime *LocalDateTime 0;
};

struct tt__XAddrCapabilities {
	xsd__anyURI XAddr 0;
};

struct tt__EventCapabilities {
	xsd__anyURI XAddr 0;
	xsd__boolean WSSubscriptionPolicySupport 0;
	xsd__boolean WSPullPointSupport 0;
	xsd__boolean WSPausableSubscriptionManagerInterfaceSupport 0;
};

struct tt__Capabilities {
	struct tt__XAddrCapabilities *Analytics 0;
	struct tt__XAddrCapabilities *Device 0;
	struct tt__EventCapabilities *Events 0;
	struct tt__XAddrCapabilities *Imaging 0;
	struct tt__XAddrCapabilities *Media 0;
	struct tt__XAddrCapabilities *PTZ 0;
};

struct tt__OnvifVersion {
	xsd__int Major 0;
	xsd__int Minor 0;
};

/* One SimpleItem: Name and Value attributes. */
struct _tt__ItemList_SimpleItem {
	@xsd__string Name 0;
	@xsd__string Value 0;
};

/* One ElementItem: its content kept as literal XML. */
struct _tt__ItemList_ElementItem {
	_XML __any;
	@xsd__string Name 0;
};

struct tt__ItemList {
	$int __sizeSimpleItem;
	struct _tt__ItemList_SimpleItem *SimpleItem 0;
	$int __sizeElementItem;
	struct _tt__ItemList_ElementItem *ElementItem 0;
};

/* tt:Message, the ONVIF event payload. */
struct _tt__Message {
	struct tt__ItemList *Source 0;
	struct tt__ItemList *Key 0;
	struct tt__ItemList *Data 0;
	@xsd__dateTime UtcTime 0;
	@xsd__string PropertyOperation 0;
};

struct tt__VideoResolution {
	xsd__int Width 0;
	xsd__int Height 0;
};

struct tt__VideoSourceConfiguration {
	xsd__string Name 0;
	xsd__string SourceToken 0;
	@xsd__string token 0;
};

struct tt__VideoEncoderConfiguration {
	xsd__string Name 0;
	xsd__string Encoding 0;
	struct tt__VideoResolution *Resolution 0;
	@xsd__string token 0;
};

struct tt__MetadataConfiguration {
	xsd__string Name 0;
	@xsd__string token 0;
};

struct tt__Profile {
	xsd__string Name 0;
	struct tt__VideoSourceConfiguration *VideoSourceConfiguration 0;
	struct tt__VideoEncoderConfiguration *VideoEncoderConfiguration 0;
	struct tt__MetadataConfiguration *MetadataConfiguration 0;
	@xsd__string token 0;
	@xsd__boolean fixed 0;
};

struct tt__Transport {
	xsd__string Protocol 0;
};

struct tt__StreamSetup {
	xsd__string Stream 0;
	struct tt__Transport *Transport 0;
};

struct tt__MediaUri {
	xsd__anyURI Uri 0;
	xsd__boolean InvalidAfterConnect 0;
	xsd__boolean InvalidAfterReboot 0;
	xsd__duration Timeout 0;
};

/******************************************************************************\
 * wsnt: WS-BaseNotification
\******************************************************************************/

/* The topic: text such as "tns1:RuleEngine/CellMotionDetector/Motion", prefix as written. */
struct wsnt__TopicExpressionType {
	char *__item;
	@xsd__anyURI Dialect 0;
};

/* wsnt:Message holds any one element: tt:Message is typed, anything else is kept as XML text so
 * that vendor payloads are never dropped. */
struct _wsnt__NotificationMessageHolderType_Message {
	struct _tt__Message *tt__Message 0;
	_XML __any;
};

struct wsnt__NotificationMessageHolderType {
	struct wsa5__EndpointReferenceType *SubscriptionReference 0;
	struct wsnt__TopicExpressionType *Topic 0;
	struct wsa5__EndpointReferenceType *ProducerReference 0;
	struct _wsnt__NotificationMessageHolderType_Message *Message 0;
};

/* A bare <wsnt:NotificationMessage> document. */
typedef struct wsnt__NotificationMessageHolderType _wsnt__NotificationMessage;

/* A pushed notification (wsnt:Notify): the same messages as a PullMessagesResponse. */
struct _wsnt__Notify {
	$int __sizeNotificationMessage;
	struct wsnt__NotificationMessageHolderType *NotificationMessage 0;
};

struct _wsnt__Renew {
	xsd__string TerminationTime 0; /* a relative duration ("PT60S") */
};

struct _wsnt__RenewResponse {
	xsd__dateTime TerminationTime 0;
	xsd__dateTime CurrentTime 0;
};

struct _wsnt__Unsubscribe {
	/* no content */
};

struct _wsnt__UnsubscribeResponse {
	/* no content */
};

/* The ONVIF metadata stream (RTSP application/vnd.onvif.metadata): tt:Event elements hold the same
 * notification messages; everything else (VideoAnalytics, PTZ) is skipped. The wrappers keep the
 * document order even when events and other elements alternate. */
struct __tt__EventStream_item {
	$int __union_EventStream;
	union _tt__union_EventStream {
		struct wsnt__NotificationMessageHolderType *wsnt__NotificationMessage;
		_XML __any;
	} union_EventStream;
};

struct tt__EventStream {
	$int __size;
	struct __tt__EventStream_item *__item;
};

struct __tt__MetadataStream_item {
	$int __union_MetadataStream;
	union _tt__union_MetadataStream {
		struct tt__EventStream *tt__Event;
		_XML __any;
	} union_MetadataStream;
};

struct _tt__MetadataStream {
	$int __size;
	struct __tt__MetadataStream_item *__item;
};

/******************************************************************************\
 * tds: device service
\******************************************************************************/

struct _tds__GetSystemDateAndTime {
	/* no content */
};

struct _tds__GetSystemDateAndTimeResponse {
	struct tt__SystemDateTime *SystemDateAndTime 0;
};

struct _tds__GetDeviceInformation {
	/* no content */
};

struct _tds__GetDeviceInformationResponse {
	xsd__string Manufacturer 0;
	xsd__string Model 0;
	xsd__string FirmwareVersion 0;
	xsd__string SerialNumber 0;
	xsd__string HardwareId 0;
};

struct _tds__GetCapabilities {
	$int __sizeCategory;
	xsd__string *Category 0;
};

struct _tds__GetCapabilitiesResponse {
	struct tt__Capabilities *Capabilities 0;
};

struct tds__Service {
	xsd__anyURI Namespace 0;
	xsd__anyURI XAddr 0;
	struct tt__OnvifVersion *Version 0;
};

struct _tds__GetServices {
	xsd__boolean IncludeCapability 1;
};

struct _tds__GetServicesResponse {
	$int __sizeService;
	struct tds__Service *Service 0;
};

/******************************************************************************\
 * tev: event service
\******************************************************************************/

struct _tev__CreatePullPointSubscription {
	xsd__string InitialTerminationTime 0; /* a relative duration ("PT60S") */
};

struct _tev__CreatePullPointSubscriptionResponse {
	struct wsa5__EndpointReferenceType *SubscriptionReference 0;
	xsd__dateTime wsnt__CurrentTime 0;
	xsd__dateTime wsnt__TerminationTime 0;
};

struct _tev__PullMessages {
	xsd__duration Timeout 1;
	int MessageLimit 1;
};

struct _tev__PullMessagesResponse {
	xsd__dateTime CurrentTime 0;
	xsd__dateTime TerminationTime 0;
	$int __sizeNotificationMessage;
	struct wsnt__NotificationMessageHolderType *wsnt__NotificationMessage 0;
};

struct _tev__GetEventProperties {
	/* no content */
};

struct wstop__TopicSetType {
	$int __size;
	_XML *__any;
};

struct _tev__GetEventPropertiesResponse {
	$int __sizeTopicNamespaceLocation;
	xsd__anyURI *TopicNamespaceLocation 0;
	xsd__boolean wsnt__FixedTopicSet 0;
	struct wstop__TopicSetType *wstop__TopicSet 0;
	$int __sizeTopicExpressionDialect;
	xsd__anyURI *wsnt__TopicExpressionDialect 0;
	$int __sizeMessageContentFilterDialect;
	xsd__anyURI *MessageContentFilterDialect 0;
};

/******************************************************************************\
 * trt: media service
\******************************************************************************/

struct _trt__GetProfiles {
	/* no content */
};

struct _trt__GetProfilesResponse {
	$int __sizeProfiles;
	struct tt__Profile *Profiles 0;
};

/* An NVR's channels: one video source each, in the device's order (channel 1 = the first). Only
 * the token is read; resolution and frame rate are skipped. */
struct tt__VideoSource {
	@xsd__string token 0;
};

struct _trt__GetVideoSources {
	/* no content */
};

struct _trt__GetVideoSourcesResponse {
	$int __sizeVideoSources;
	struct tt__VideoSource *VideoSources 0;
};

struct _trt__GetStreamUri {
	struct tt__StreamSetup *StreamSetup 0;
	xsd__string ProfileToken 0;
};

struct _trt__GetStreamUriResponse {
	struct tt__MediaUri *MediaUri 0;
};

struct _trt__GetSnapshotUri {
	xsd__string ProfileToken 0;
};

struct _trt__GetSnapshotUriResponse {
	struct tt__MediaUri *MediaUri 0;
};

/******************************************************************************\
 * Operations. Every one is document/literal SOAP 1.2 with its ONVIF / WS-N action URI.
\******************************************************************************/

//gsoap tds service name: Device
//gsoap tds service type: Device
//gsoap tds service namespace: http://www.onvif.org/ver10/device/wsdl
//gsoap tds service style: document
//gsoap tds service encoding: literal
//gsoap tds service method-action: GetSystemDateAndTime http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime
int __tds__GetSystemDateAndTime(struct _tds__GetSystemDateAndTime *tds__GetSystemDateAndTime,
				struct _tds__GetSystemDateAndTimeResponse *tds__GetSystemDateAndTimeResponse);
//gsoap tds service method-action: GetDeviceInformation http://www.onvif.org/ver10/device/wsdl/GetDeviceInformation
int __tds__GetDeviceInformation(struct _tds__GetDeviceInformation *tds__GetDeviceInformation,
				struct _tds__GetDeviceInformationResponse *tds__GetDeviceInformationResponse);
//gsoap tds service method-action: GetCapabilities http://www.onvif.org/ver10/device/wsdl/GetCapabilities
int __tds__GetCapabilities(struct _tds__GetCapabilities *tds__GetCapabilities,
			   struct _tds__GetCapabilitiesResponse *tds__GetCapabilitiesResponse);
//gsoap tds service method-action: GetServices http://www.onvif.org/ver10/device/wsdl/GetServices
int __tds__GetServices(struct _tds__GetServices *tds__GetServices,
		       struct _tds__GetServicesResponse *tds__GetServicesResponse);

//gsoap tev service name: Events
//gsoap tev service type: EventPortType
//gsoap tev service namespace: http://www.onvif.org/ver10/events/wsdl
//gsoap tev service style: document
//gsoap tev service encoding: literal
//gsoap tev service method-action: CreatePullPointSubscription http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest
int __tev__CreatePullPointSubscription(struct _tev__CreatePullPointSubscription *tev__CreatePullPointSubscription,
				       struct _tev__CreatePullPointSubscriptionResponse *tev__CreatePullPointSubscriptionResponse);
//gsoap tev service method-action: PullMessages http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest
int __tev__PullMessages(struct _tev__PullMessages *tev__PullMessages,
			struct _tev__PullMessagesResponse *tev__PullMessagesResponse);
//gsoap tev service method-action: Renew http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest
int __tev__Renew(struct _wsnt__Renew *wsnt__Renew, struct _wsnt__RenewResponse *wsnt__RenewResponse);
//gsoap tev service method-action: Unsubscribe http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest
int __tev__Unsubscribe(struct _wsnt__Unsubscribe *wsnt__Unsubscribe,
		       struct _wsnt__UnsubscribeResponse *wsnt__UnsubscribeResponse);
//gsoap tev service method-action: GetEventProperties http://www.onvif.org/ver10/events/wsdl/EventPortType/GetEventPropertiesRequest
int __tev__GetEventProperties(struct _tev__GetEventProperties *tev__GetEventProperties,
			      struct _tev__GetEventPropertiesResponse *tev__GetEventPropertiesResponse);

//gsoap trt service name: Media
//gsoap trt service type: Media
//gsoap trt service namespace: http://www.onvif.org/ver10/media/wsdl
//gsoap trt service style: document
//gsoap trt service encoding: literal
//gsoap trt service method-action: GetProfiles http://www.onvif.org/ver10/media/wsdl/GetProfiles
int __trt__GetProfiles(struct _trt__GetProfiles *trt__GetProfiles, struct _trt__GetProfilesResponse *trt__GetProfilesResponse);
//gsoap trt service method-action: GetVideoSources http://www.onvif.org/ver10/media/wsdl/GetVideoSources
int __trt__GetVideoSources(struct _trt__GetVideoSources *trt__GetVideoSources,
			   struct _trt__GetVideoSourcesResponse *trt__GetVideoSourcesResponse);
//gsoap trt service method-action: GetStreamUri http://www.onvif.org/ver10/media/wsdl/GetStreamUri
int __trt__GetStreamUri(struct _trt__GetStreamUri *trt__GetStreamUri, struct _trt__GetStreamUriResponse *trt__GetStreamUriResponse);
//gsoap trt service method-action: GetSnapshotUri http://www.onvif.org/ver10/media/wsdl/GetSnapshotUri
int __trt__GetSnapshotUri(struct _trt__GetSnapshotUri *trt__GetSnapshotUri,
			  struct _trt__GetSnapshotUriResponse *trt__GetSnapshotUriResponse);

// Types of roomd-client.js: roomd's client API (docs/client-protocol.md in the roomd
// repository). Names are TUIRoomEngine's (methods) and TUIRoomObserver's (events); params
// and results are camelCase JSON objects.

export type TUIRole = 'roomOwner' | 'administrator' | 'generalUser';
export type Platform = 'Web' | 'Android' | 'iOS' | 'Windows' | 'Mac' | 'macOS' | 'iPad' | (string & {});

/** Options of connect(). */
export interface ConnectOptions {
  /** roomd's URL: `wss://host/v1/client`, or just `https://host` / `http://127.0.0.1:8080`
   * (http becomes ws, a bare origin gets /v1/client). In a page, absent means the page's server. */
  url?: string;
  sdkAppId: number | string;
  userId: string;
  /** The user's UserSig, or a function returning a fresh one (called at every (re)connect). */
  userSig: string | (() => string | Promise<string>);
  /** The OptPlatform of the callbacks this user's operations cause. Default 'Web' in a browser. */
  platform?: Platform;
  /** A WebSocket constructor (browser-compatible: onopen/onmessage/onclose, send, close),
   * e.g. the `ws` package's on Node 20 without --experimental-websocket. Default globalThis.WebSocket. */
  WebSocket?: unknown;
  /** Milliseconds a call waits for its response before rejecting with ErrorCode.TIMEOUT. Default 15000; 0: no limit. */
  callTimeout?: number;
  /** Milliseconds the WebSocket may take to open. Default 10000. */
  connectTimeout?: number;
  /** After this many ms without a frame from the server the client sends a probe (a request
   * for the method `rpc.ping`, which the server answers at once with -32601). Default 20000; 0 turns the client-side heartbeat off. */
  heartbeatInterval?: number;
  /** Ms after a probe without any frame before the connection is declared dead: it is closed
   * and the client reconnects. Default 10000. */
  heartbeatTimeout?: number;
  /** Reconnecting after an unexpected drop: delays double from initialDelay (default 500 ms)
   * up to maxDelay (default 30000 ms), with jitter; maxAttempts default Infinity. false: never reconnect. */
  reconnect?: false | { initialDelay?: number; maxDelay?: number; maxAttempts?: number };
  /** Listeners registered before the connection opens (so none misses an early event). */
  on?: { [E in keyof RoomdEvents]?: (arg: RoomdEvents[E]) => void };
}

/** Connects and resolves with a ready client; rejects with a RoomdError (code 70001…70014 for
 * a bad UserSig, 70020 for an unknown SDKAppID, ErrorCode.CONNECT_FAILED when the reason is unknown). */
export function connect(options: ConnectOptions): Promise<RoomdClient>;

export const METHODS: readonly (keyof Methods)[];
export const EVENTS: readonly (keyof PushEvents)[];
export const CONNECTION_EVENT_NAMES: readonly string[];
export function backoff(attempt: number, initialDelay?: number, maxDelay?: number): number;

export const ErrorCode: {
  readonly CLOSED: -1001;
  readonly TIMEOUT: -1002;
  readonly CONNECT_FAILED: -1003;
  readonly NO_WEBSOCKET: -1004;
};

/** An error of a call or of connecting. `code` is the server's Tencent code (100004 room not
 * found, 100005 not in the room, 100006 no permission, 10016 refused by the App backend, …),
 * a JSON-RPC transport code (-32700…-32600), or one of ErrorCode. */
export class RoomdError extends Error {
  constructor(code: number, message: string, extra?: { httpStatus?: number; method?: string; data?: unknown });
  readonly code: number;
  readonly httpStatus?: number;
  readonly method?: string;
  readonly data?: unknown;
}

// ---- shapes ----

export interface RoomInfo {
  roomId: string; roomName: string; roomType: 'Live'; ownerId: string; createTime: number;
  isSeatEnabled: boolean; takeSeatMode: 'FreeToTake' | 'ApplyToTake'; maxSeatCount: number; maxMemberCount: number;
  isMessageDisabled: boolean; isPublicVisible: boolean; coverUrl: string; backgroundUrl: string;
  notice: string; customInfo: string; category: number[]; activityStatus: number; viewCount: number;
  memberCount: number; onlineCount: number; ownerName: string; ownerAvatarUrl: string;
}
export interface RoomAttributes {
  roomName?: string; takeSeatMode?: 'FreeToTake' | 'ApplyToTake'; maxSeatCount?: number; maxMemberCount?: number;
  isMessageDisabled?: boolean; isPublicVisible?: boolean; coverUrl?: string; backgroundUrl?: string;
  notice?: string; customInfo?: string; category?: number[]; activityStatus?: number;
}
export interface UserInfo { userId: string }
export interface RoomUser { userId: string; userRole: TUIRole }
export interface Message { messageSeq: number; userId: string; timestamp: number }
export interface TextMessage extends Message { text: string }
export interface CustomMessage extends Message { businessId: string; data: string }
export interface SeatInfo { index: number; userId: string; isLocked: boolean; isVideoLocked: boolean; isAudioLocked: boolean }
export interface SeatRequest {
  requestId: string; requestAction: 'requestToTakeSeat' | (string & {}); userId: string; seatIndex: number;
  timestamp: number; expiresAt: number;
}
export interface Gift {
  giftId: string; name: string; desc: string; iconUrl: string; resourceUrl: string; level: number; coins: number;
  extensionInfo: Record<string, string>;
}
export interface GiftCategory { categoryId: string; name: string; desc: string; extensionInfo: Record<string, string>; giftList: Gift[] }
export interface GiftCounts { roomId: string; totalGiftsSent: number; totalGiftCoins: number; totalUniqueGiftSenders: number }
export interface FollowResult { userID: string; resultCode: number; resultInfo: string }
export interface FollowUser { userID: string; nickName: string; faceUrl: string; followTime: number }
export interface FollowPage { userInfoList: FollowUser[]; nextCursor: string }
export interface BattleUser { roomId: string; userId: string; score: number }
export interface BattleConfig { duration: number; needResponse?: boolean; extensionInfo?: string }
export interface BattleInfo {
  battleId: string; config: Required<BattleConfig>; startTime: number; endTime: number;
  inviter: BattleUser; inviteeList: BattleUser[];
}
type Empty = Record<string, never>;
interface RoomParams { roomId: string }

/** Every method: [params, result]. */
export interface Methods {
  createRoom: [RoomParams & RoomAttributes & { roomType?: 'Live'; isSeatEnabled?: boolean }, { roomInfo: RoomInfo }];
  destroyRoom: [RoomParams, Empty];
  enterRoom: [RoomParams, { roomInfo: RoomInfo }];
  exitRoom: [RoomParams, Empty];
  fetchRoomInfo: [RoomParams, { roomInfo: RoomInfo }];
  updateRoomNameByAdmin: [RoomParams & { roomName: string }, Empty];
  updateRoomInfoByAdmin: [RoomParams & RoomAttributes, Empty];
  getRoomMetadata: [RoomParams & { keys?: string[] }, { metadata: Record<string, string> }];
  setRoomMetadataByAdmin: [RoomParams & { metadata: Record<string, string> }, Empty];
  deleteRoomMetadataByAdmin: [RoomParams & { keys: string[] }, Empty];
  getUserList: [RoomParams & { nextSequence?: string }, { userInfoList: RoomUser[]; nextSequence: string; memberCount: number }];
  /** role 'roomOwner' transfers the room (the owner only); 'administrator'/'generalUser' add or remove a room admin. */
  changeUserRole: [RoomParams & { userId: string; role: TUIRole }, Empty];
  kickRemoteUserOutOfRoom: [RoomParams & { userId: string }, Empty];
  disableSendingMessageByAdmin: [RoomParams & { userId: string; isDisable: boolean; duration?: number }, Empty];
  disableSendingMessageForAllUser: [RoomParams & { isDisable: boolean }, Empty];
  sendTextMessage: [RoomParams & { text: string }, { messageSeq: number; timestamp: number }];
  sendCustomMessage: [RoomParams & { businessId: string; data: string }, { messageSeq: number; timestamp: number }];
  getGiftList: [RoomParams & { language?: string }, { giftCategoryList: GiftCategory[] }];
  sendGift: [RoomParams & { giftId: string; count?: number }, Empty];
  sendLike: [RoomParams & { count?: number }, { totalLikesReceived: number }];
  getGiftCountByAnchor: [RoomParams, GiftCounts];
  getLikesCount: [RoomParams, { totalLikesReceived: number }];
  followUser: [{ userIDList: string[] }, { resultList: FollowResult[] }];
  unfollowUser: [{ userIDList: string[] }, { resultList: FollowResult[] }];
  checkFollowType: [{ userIDList: string[] }, { resultList: (FollowResult & { followType: 0 | 1 | 2 | 3 })[] }];
  getMyFollowingList: [{ nextCursor?: string } | undefined, FollowPage];
  getMyFollowersList: [{ nextCursor?: string } | undefined, FollowPage];
  getMutualFollowersList: [{ nextCursor?: string } | undefined, FollowPage];
  getSeatList: [RoomParams, { seatList: SeatInfo[] }];
  /** seatIndex -1 or absent: the first free seat. In an ApplyToTake room an ordinary member applies: the result is {request}. */
  takeSeat: [RoomParams & { seatIndex?: number; timeout?: number }, { seatIndex: number } | { request: SeatRequest }];
  leaveSeat: [RoomParams, Empty];
  moveToSeat: [RoomParams & { targetSeatIndex: number }, Empty];
  takeUserOnSeatByAdmin: [RoomParams & { seatIndex: number; userId: string }, Empty];
  kickUserOffSeatByAdmin: [RoomParams & { userId: string; seatIndex?: number }, Empty];
  lockSeatByAdmin: [RoomParams & { seatIndex: number; lockParams: { lockSeat?: boolean; lockVideo?: boolean; lockAudio?: boolean } }, Empty];
  getSeatApplicationList: [RoomParams, { requestList: SeatRequest[] }];
  responseRemoteRequest: [RoomParams & { requestId: string; agree: boolean }, Empty];
  cancelRequest: [RoomParams & { requestId: string }, Empty];
  requestBattle: [RoomParams & { roomIdList: string[]; config: BattleConfig; timeout?: number },
    { battleId: string; battleInfo: BattleInfo; resultList: { roomId: string; code: number; message: string }[] }];
  acceptBattle: [{ battleId: string }, Empty];
  rejectBattle: [{ battleId: string }, Empty];
  exitBattle: [{ battleId: string }, Empty];
}

interface RoomEvent { roomId: string }
interface BattleRequest extends RoomEvent { battleId: string; inviter: BattleUser; invitee: BattleUser }

/** Every push: its params. */
export interface PushEvents {
  onRemoteUserEnterRoom: RoomEvent & { userInfo: UserInfo };
  onRemoteUserLeaveRoom: RoomEvent & { userInfo: UserInfo };
  onKickedOutOfRoom: RoomEvent & { reason: 'kickedByAdmin'; message: string };
  onRoomDismissed: RoomEvent & { reason: 'byOwner' | 'byServer' };
  onUserRoleChanged: RoomEvent & { userId: string; userRole: TUIRole };
  onRoomInfoChanged: RoomEvent & { roomInfo: RoomInfo };
  onRoomMetadataChanged: RoomEvent & { metadata?: Record<string, string>; deletedKeys?: string[] };
  onSendMessageForAllUserDisableChanged: RoomEvent & { isDisable: boolean };
  onSendMessageForUserDisableChanged: RoomEvent & { userId: string; isDisable: boolean };
  onReceiveTextMessage: RoomEvent & { message: TextMessage };
  onReceiveCustomMessage: RoomEvent & { message: CustomMessage };
  onReceiveGiftMessage: RoomEvent & { giftInfo: Gift; giftCount: number; sender: UserInfo; receivers: string[] };
  onGiftCountChanged: GiftCounts;
  onReceiveLikesMessage: RoomEvent & { totalLikesReceived: number; sender: UserInfo };
  onSeatListChanged: RoomEvent & { seatList: SeatInfo[]; seatedList: SeatInfo[]; leftList: SeatInfo[] };
  onKickedOffSeat: RoomEvent & { seatIndex: number; operateUser: UserInfo; data: string };
  onRequestReceived: RoomEvent & { request: SeatRequest };
  onRequestCancelled: RoomEvent & { request: SeatRequest; operateUser: UserInfo };
  onRequestProcessed: RoomEvent & { requestId: string; userId: string };
  onRequestAccepted: RoomEvent & { request: SeatRequest; operateUser: UserInfo };
  onRequestRejected: RoomEvent & { request: SeatRequest; operateUser: UserInfo };
  onRequestTimeout: RoomEvent & { request: SeatRequest; operateUser: UserInfo };
  onBattleRequestReceived: BattleRequest & { battleInfo: BattleInfo };
  onBattleRequestAccept: BattleRequest;
  onBattleRequestReject: BattleRequest;
  onBattleRequestTimeout: BattleRequest;
  onBattleRequestCancelled: BattleRequest;
  onBattleStarted: RoomEvent & { battleInfo: BattleInfo };
  onBattleScoreChanged: RoomEvent & { battleId: string; battleUserList: BattleUser[] };
  onUserExitBattle: RoomEvent & { battleId: string; battleUser: BattleUser };
  onBattleEnded: RoomEvent & { battleInfo: BattleInfo; reason: 'timeOver' | 'otherExit' };
}

/** The connection's own events. */
export interface ConnectionEvents {
  /** A WebSocket connection opened: the first (reconnect false), or a reconnect's, before the rooms are entered again. */
  open: { reconnect: boolean; attempt?: number };
  /** The connection dropped unexpectedly (or a reconnect attempt failed); the next attempt starts after `delay` ms. */
  reconnecting: { attempt: number; delay: number; code: number; reason: string };
  /** Back, and in `rooms` again (the server reports Online/HeartbeatRecover when within its
   * reconnect grace, default 60 s); `failed` lists rooms it could not enter again (dissolved, banned…). */
  reconnected: { attempt: number; rooms: string[]; failed: { roomId: string; error: RoomdError }[] };
  /** Closed for good: by close() (byClient), by the server on purpose (1000), or refused when reconnecting (error). */
  close: { code: number; reason: string; byClient: boolean; error?: RoomdError };
  /** Every push, with its method name. */
  push: { method: keyof PushEvents | (string & {}); params: any };
  /** A frame the client could not read. */
  error: RoomdError;
}

export type RoomdEvents = PushEvents & ConnectionEvents;

type MethodFns = { [M in keyof Methods]: undefined extends Methods[M][0]
  ? (params?: Methods[M][0]) => Promise<Methods[M][1]>
  : (params: Methods[M][0]) => Promise<Methods[M][1]> };

export interface RoomdClient extends MethodFns {}
export class RoomdClient {
  private constructor(options: ConnectOptions);
  static connect(options: ConnectOptions): Promise<RoomdClient>;
  readonly sdkAppId: number;
  readonly userId: string;
  readonly state: 'connecting' | 'open' | 'reconnecting' | 'closed';
  /** The rooms entered on this client (entered again after a reconnect). */
  readonly rooms: string[];
  /** The WebSocket endpoint, without credentials. */
  readonly url: string;
  /** Calls any method; resolves with its result, rejects with a RoomdError. */
  call<M extends keyof Methods>(method: M, params?: Methods[M][0]): Promise<Methods[M][1]>;
  call(method: string, params?: object): Promise<any>;
  on<E extends keyof RoomdEvents>(event: E, listener: (arg: RoomdEvents[E]) => void): () => void;
  on(event: string, listener: (arg: any) => void): () => void;
  off<E extends keyof RoomdEvents>(event: E, listener: (arg: RoomdEvents[E]) => void): void;
  off(event: string, listener: (arg: any) => void): void;
  once<E extends keyof RoomdEvents>(event: E, listener: (arg: RoomdEvents[E]) => void): () => void;
  once(event: string, listener: (arg: any) => void): () => void;
  /** Closes for good (a clean close: the server reports Offline/Leave). */
  close(code?: number, reason?: string): Promise<void>;
}

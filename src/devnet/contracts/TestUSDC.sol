// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// TestUSDC: a 6-decimal ERC-20 with EIP-3009 (transfer/receive/cancel with authorization),
// written for the local devnet only. It is NOT a production token.
//
// Why the unusual shape:
// - The same runtime code is also placed at real USDC addresses with `anvil_setCode`, which
//   does not run a constructor. So name/version/minter live in storage (no immutables) and are
//   set by `initialize`, which works exactly once; the constructor calls the same internal init.
// - The EIP-712 domain separator is recomputed from storage, `block.chainid` and `address(this)`
//   on every call, never cached, so it is right wherever the code is placed.
// - Revert reasons are plain strings that the x402 facilitator maps to its error codes by regex
//   ("authorization is used", "authorization is expired", "authorization is not yet valid",
//   "invalid signature", "transfer amount exceeds balance").
// - Like Circle's FiatToken, the admin (the minter) can blacklist an address: a blacklisted sender,
//   recipient, spender or caller makes transfers, approvals and mints revert with FiatToken's reason
//   ("Blacklistable: account is blacklisted"), so payout code meets the same failure locally.
//   `_blacklisted` is declared after every older slot so the storage layout of earlier state holds.
// - Only EOA (ECDSA) signers are supported. The bytes-signature overloads accept a 65-byte
//   r||s||v signature; ERC-1271 contract signers are not supported (the facilitator only uses the
//   bytes overload for non-65-byte signatures, i.e. smart wallets, which the devnet does not have).
contract TestUSDC {
    // ---- EIP-712 / EIP-3009 type hashes ----
    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    // Largest valid `s` (secp256k1n / 2): signatures with a larger `s` are malleable copies.
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // ---- storage (all state lives here so anvil_setCode + initialize works) ----
    bool private _initialized;
    string private _name;
    string private _version;
    address private _minter;
    uint256 private _totalSupply;
    mapping(address => uint256) private _balances;
    mapping(address => mapping(address => uint256)) private _allowances;
    mapping(address => mapping(bytes32 => bool)) private _authorizationStates;
    mapping(address => bool) private _blacklisted;

    // ---- events ----
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);
    event EIP712DomainChanged();
    event Blacklisted(address indexed _account);
    event UnBlacklisted(address indexed _account);

    modifier notBlacklisted(address account) {
        require(!_blacklisted[account], "Blacklistable: account is blacklisted");
        _;
    }

    modifier onlyMinter() {
        require(msg.sender == _minter, "caller is not the minter");
        _;
    }

    constructor(string memory name_, string memory version_, address minter_) {
        _init(name_, version_, minter_);
    }

    // For code placed with anvil_setCode (no constructor ran). Callable once, by anyone, while
    // uninitialized: acceptable on a local devnet only.
    function initialize(string calldata name_, string calldata version_, address minter_) external {
        _init(name_, version_, minter_);
    }

    function _init(string memory name_, string memory version_, address minter_) private {
        require(!_initialized, "already initialized");
        require(bytes(name_).length > 0, "name is empty");
        require(bytes(version_).length > 0, "version is empty");
        require(minter_ != address(0), "minter is the zero address");
        _initialized = true;
        _name = name_;
        _version = version_;
        _minter = minter_;
        emit EIP712DomainChanged();
    }

    // ---- metadata ----
    function name() external view returns (string memory) {
        return _name;
    }

    function symbol() external pure returns (string memory) {
        return "USDC";
    }

    function version() external view returns (string memory) {
        return _version;
    }

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function minter() external view returns (address) {
        return _minter;
    }

    // ---- ERC-20 ----
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value)
        external
        notBlacklisted(msg.sender)
        notBlacklisted(spender)
        returns (bool)
    {
        require(spender != address(0), "approve to the zero address");
        _allowances[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external notBlacklisted(msg.sender) returns (bool) {
        uint256 current = _allowances[from][msg.sender];
        if (current != type(uint256).max) {
            require(current >= value, "transfer amount exceeds allowance");
            unchecked {
                _allowances[from][msg.sender] = current - value;
            }
        }
        _transfer(from, to, value);
        return true;
    }

    function mint(address to, uint256 amount) external onlyMinter notBlacklisted(to) {
        require(to != address(0), "mint to the zero address");
        _totalSupply += amount;
        _balances[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    // ---- blacklist (FiatToken's interface; the minter is the blacklister) ----
    function isBlacklisted(address account) external view returns (bool) {
        return _blacklisted[account];
    }

    function blacklist(address account) external onlyMinter {
        _blacklisted[account] = true;
        emit Blacklisted(account);
    }

    function unBlacklist(address account) external onlyMinter {
        _blacklisted[account] = false;
        emit UnBlacklisted(account);
    }

    // Every balance move (transfer, transferFrom, EIP-3009) goes through here: both ends are checked.
    function _transfer(address from, address to, uint256 value) private notBlacklisted(from) notBlacklisted(to) {
        require(from != address(0), "transfer from the zero address");
        require(to != address(0), "transfer to the zero address");
        uint256 fromBalance = _balances[from];
        require(fromBalance >= value, "transfer amount exceeds balance");
        unchecked {
            _balances[from] = fromBalance - value;
        }
        _balances[to] += value;
        emit Transfer(from, to, value);
    }

    // ---- EIP-712 domain ----
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes(_name)),
                keccak256(bytes(_version)),
                block.chainid,
                address(this)
            )
        );
    }

    // EIP-5267: lets wallets and viem's getEip712Domain discover the signing domain.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version_,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        // 0x0f: name, version, chainId and verifyingContract are used; salt is not.
        return (hex"0f", _name, _version, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ---- EIP-3009 ----
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    // Like transferWithAuthorization, but only the payee may submit it (prevents front-running
    // a deposit call that wraps the transfer).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        require(to == msg.sender, "caller must be the payee");
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        require(to == msg.sender, "caller must be the payee");
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, v, r, s);
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        (uint8 v, bytes32 r, bytes32 s) = _splitSignature(signature);
        _cancelAuthorization(authorizer, nonce, v, r, s);
    }

    function _transferWithAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private {
        require(block.timestamp > validAfter, "authorization is not yet valid");
        require(block.timestamp < validBefore, "authorization is expired");
        require(!_authorizationStates[from][nonce], "authorization is used or canceled");
        bytes32 structHash = keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce));
        require(_recover(_digest(structHash), v, r, s) == from, "invalid signature");
        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) private {
        require(!_authorizationStates[authorizer][nonce], "authorization is used or canceled");
        bytes32 structHash = keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce));
        require(_recover(_digest(structHash), v, r, s) == authorizer, "invalid signature");
        _authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    function _digest(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR(), structHash));
    }

    // ecrecover that rejects malleable (upper-half s) and malformed (v not 27/28) signatures and
    // never returns the zero address as a valid signer.
    function _recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) private pure returns (address) {
        require(uint256(s) <= MAX_S, "invalid signature: s is in the upper half");
        require(v == 27 || v == 28, "invalid signature: v must be 27 or 28");
        address signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "invalid signature");
        return signer;
    }

    function _splitSignature(bytes calldata signature) private pure returns (uint8 v, bytes32 r, bytes32 s) {
        require(signature.length == 65, "invalid signature: length must be 65 bytes");
        r = bytes32(signature[0:32]);
        s = bytes32(signature[32:64]);
        v = uint8(signature[64]);
    }
}

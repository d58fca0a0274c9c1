// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice USDT as mainnet's TetherToken (0xdAC17F958D2ee523a2206206994597C13D831ec7) behaves for its users.
/// @dev No return value from transfer/transferFrom/approve, the approve race guard, an unlimited
///      allowance that is never spent, mainnet's storage slots and mainnet's failure modes.
///      Fidelity to mainnet is the point of this contract, so it departs from the project's
///      "custom errors everywhere" rule on purpose. Mainnet's TetherToken (solc 0.4.18) fails in
///      two ways, and this contract fails in exactly the same two ways:
///      - `require(...)` without a message: REVERT with empty return data (the approve race guard;
///        calldata shorter than the arguments, which the 0.8 ABI decoder already rejects the same
///        way as mainnet's `onlyPayloadSize`);
///      - SafeMath's `assert(b <= a)`: the INVALID opcode (0xfe), which burns all gas forwarded to
///        the call (balance or allowance too small).
///      A custom error would put a selector into the revert data that a real mainnet fork never
///      returns, and code that decodes or bubbles revert data (routers, the diamond, tests) would
///      then see a different world on the replica than on mainnet. The engine must never be able
///      to tell the two apart. Admin features (pause, blacklist, fees, deprecation) are not
///      modelled: on mainnet they are off for every ordinary account, and their storage slots
///      are kept at mainnet's positions with mainnet's default values.
contract ReplicaTetherToken {
    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /*//////////////////////////////////////////////////////////////
                  STORAGE (mainnet's slots, in mainnet's order)
    //////////////////////////////////////////////////////////////*/

    /// @notice The issuer (mainnet: Tether's multisig; here: the account that received the supply).
    address public owner; // slot 0 (Ownable)
    /// @notice Always false here; mainnet's pause switch.
    bool public paused; // slot 0, packed beside owner (Pausable)
    /// @notice The supply, under mainnet's public name.
    uint256 public _totalSupply; // slot 1 (ERC20Basic)
    /// @notice Balances, under mainnet's public name; `balanceOf` reads the same mapping.
    mapping(address => uint256) public balances; // slot 2 (BasicToken): tools that hardcode USDT's slot 2 work
    /// @notice Transfer fee in basis points: 0, as on mainnet.
    uint256 public basisPointsRate; // slot 3
    /// @notice Cap on the transfer fee: 0, as on mainnet.
    uint256 public maximumFee; // slot 4
    /// @notice Allowances, under mainnet's public name; `allowance` reads the same mapping.
    mapping(address => mapping(address => uint256)) public allowed; // slot 5 (StandardToken)
    /// @notice Always false here; mainnet's blacklist.
    mapping(address => bool) public isBlackListed; // slot 6 (BlackList)
    /// @notice "Tether USD".
    string public name; // slot 7
    /// @notice "USDT".
    string public symbol; // slot 8
    /// @notice 6, returned as a uint256 as mainnet's `uint public decimals` does.
    uint256 public decimals; // slot 9
    /// @notice Always zero here; mainnet's upgrade target.
    address public upgradedAddress; // slot 10
    /// @notice Always false here; mainnet's deprecation switch.
    bool public deprecated; // slot 10, packed beside upgradedAddress

    /// @notice An allowance of this value is never decremented by transferFrom (mainnet's MAX_UINT).
    uint256 public constant MAX_UINT = type(uint256).max;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param holder Receives the whole supply (the replica builder).
    /// @param supply The supply, in units of 10^-6 USDT.
    constructor(address holder, uint256 supply) {
        owner = holder;
        _totalSupply = supply;
        balances[holder] = supply; // mainnet's constructor emits no Transfer either
        name = "Tether USD";
        symbol = "USDT";
        decimals = 6;
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Total USDT in existence.
    /// @return The supply, in units of 10^-6 USDT.
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @notice USDT held by `who`.
    /// @param who The holder.
    /// @return The balance, in units of 10^-6 USDT.
    function balanceOf(address who) external view returns (uint256) {
        return balances[who];
    }

    /// @notice USDT `spender` may still move on behalf of `holder`.
    /// @param holder The holder.
    /// @param spender The approved spender.
    /// @return remaining The allowance.
    function allowance(address holder, address spender) external view returns (uint256 remaining) {
        return allowed[holder][spender];
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Move `value` of the caller's USDT to `to`. Returns nothing, as on mainnet.
    /// @dev A balance below `value` hits INVALID (mainnet's SafeMath assert), burning the call's gas.
    /// @param to The recipient (the zero address is accepted, as on mainnet).
    /// @param value The amount, in units of 10^-6 USDT.
    function transfer(address to, uint256 value) external {
        _move(msg.sender, to, value);
    }

    /// @notice Move `value` USDT from `from` to `to` with the caller's allowance. Returns nothing.
    /// @dev An allowance of MAX_UINT is left untouched. An allowance or balance below `value` hits
    ///      INVALID (mainnet's SafeMath assert); the allowance is checked first, as on mainnet.
    /// @param from The holder.
    /// @param to The recipient.
    /// @param value The amount, in units of 10^-6 USDT.
    function transferFrom(address from, address to, uint256 value) external {
        uint256 current = allowed[from][msg.sender];
        if (current < MAX_UINT) allowed[from][msg.sender] = _sub(current, value);
        _move(from, to, value);
    }

    /// @notice Allow `spender` to move up to `value` of the caller's USDT. Returns nothing.
    /// @dev Mainnet's race guard: changing a non-zero allowance to another non-zero value reverts
    ///      with empty data (mainnet's message-less `require`); set it to 0 first.
    /// @param spender The approved spender.
    /// @param value The allowance, in units of 10^-6 USDT.
    function approve(address spender, uint256 value) external {
        if (value != 0 && allowed[msg.sender][spender] != 0) {
            revert(); // mainnet: require(!((_value != 0) && (allowed[msg.sender][_spender] != 0)))
        }
        allowed[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
    }

    function _move(address from, address to, uint256 value) private {
        balances[from] = _sub(balances[from], value);
        unchecked {
            balances[to] += value; // the sum of balances is _totalSupply, which never grows here
        }
        emit Transfer(from, to, value);
    }

    /// @dev Mainnet's SafeMath.sub: `assert(b <= a)`, which solc 0.4 compiles to INVALID.
    function _sub(uint256 a, uint256 b) private pure returns (uint256) {
        if (b > a) {
            assembly ("memory-safe") {
                invalid()
            }
        }
        unchecked {
            return a - b;
        }
    }
}
